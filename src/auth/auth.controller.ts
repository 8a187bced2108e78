import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { CurrentUser, StepUp, UserAuth, VerifiesCredentials } from '#src/common/auth/auth.decorators.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { Public } from '#src/common/public.decorator.js';
import { RateLimit } from '#src/common/rate-limit/rate-limit.policies.js';
import { UuidParam } from '#src/common/validators.js';
import { ApiLockedResponse } from '#src/common/locked-response.decorator.js';
import { AuthService } from './auth.service.js';
import {
  ChangePasswordDto,
  LoginDto,
  LoginResponseDto,
  LoginTokensResponseDto,
  LogoutDto,
  MfaCodeDto,
  MfaDisableDto,
  MfaEnabledDto,
  MfaEnrolmentDto,
  MfaRequiredResponseDto,
  MfaStatusDto,
  RefreshDto,
  SessionResponseDto,
  StepUpDto,
  StepUpResponseDto,
  TokenResponseDto,
} from './dto/auth.dto.js';
import { MfaService } from './mfa.service.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly mfa: MfaService,
  ) {}

  @Post('login')
  @HttpCode(200)
  @Public()
  @VerifiesCredentials()
  @RateLimit('login')
  @ApiOperation({
    summary: 'Sign in with username or e-mail and password (+ mfa_code when MFA is on)',
    description: 'Without a needed MFA code the answer is `{"mfa_required": true}` and no tokens.',
  })
  @ApiExtraModels(LoginTokensResponseDto, MfaRequiredResponseDto)
  @ApiOkResponse({
    description: 'Signed in (the tokens), or `{"mfa_required": true}`: `mfa_required` tells which',
    // The boolean `mfa_required` (enum [false] / [true]) tells the two apart. No `discriminator`
    // object: OpenAPI's are string-valued, and generators would type the flag as "true" / "false".
    schema: {
      oneOf: [{ $ref: getSchemaPath(LoginTokensResponseDto) }, { $ref: getSchemaPath(MfaRequiredResponseDto) }],
    },
  })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED' })
  @ApiUnauthorizedResponse({
    description:
      'INVALID_CREDENTIALS: the username or password (or MFA code) is wrong, or the account is disabled; ' +
      'the answer never tells which',
  })
  @ApiLockedResponse('ACCOUNT_LOCKED', 'too many failed sign-ins for this username')
  login(@Body() dto: LoginDto): Promise<LoginResponseDto> {
    return this.auth.login(dto);
  }

  @Post('refresh')
  @HttpCode(200)
  @Public()
  @VerifiesCredentials()
  @ApiOperation({ summary: 'Exchange a refresh token for new tokens (the old one stops working)' })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiUnauthorizedResponse({ description: 'INVALID_REFRESH_TOKEN: unknown, expired, already used or revoked' })
  refresh(@Body() dto: RefreshDto): Promise<TokenResponseDto> {
    return this.auth.refresh(dto.refresh_token);
  }

  @Post('logout')
  @HttpCode(204)
  @UserAuth({ allowPendingPasswordChange: true })
  @ApiOperation({ summary: 'End this login; its access and refresh tokens stop working' })
  @ApiNoContentResponse()
  logout(@CurrentUser() me: UserPrincipal, @Body() dto: LogoutDto): Promise<void> {
    return this.auth.logout(me, dto.refresh_token);
  }

  @Get('sessions')
  @UserAuth()
  @ApiOperation({ summary: 'My live sessions' })
  @ApiOkResponse({ type: [SessionResponseDto] })
  sessions(@CurrentUser() me: UserPrincipal): Promise<SessionResponseDto[]> {
    return this.auth.listSessions(me);
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @UserAuth()
  @ApiOperation({ summary: 'End one of my sessions' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'SESSION_NOT_FOUND' })
  revokeSession(@CurrentUser() me: UserPrincipal, @Param('id', UuidParam) id: string): Promise<void> {
    return this.auth.revokeSession(me, id);
  }

  @Post('change-password')
  @HttpCode(204)
  @UserAuth({ allowPendingPasswordChange: true })
  @ApiOperation({ summary: 'Change my password; my other sessions end' })
  @ApiNoContentResponse()
  @ApiBadRequestResponse({
    description: 'INVALID_PASSWORD: the current password is wrong; PASSWORD_REUSED; VALIDATION_FAILED',
  })
  @ApiLockedResponse('ACCOUNT_LOCKED', 'too many failed password checks')
  changePassword(@CurrentUser() me: UserPrincipal, @Body() dto: ChangePasswordDto): Promise<void> {
    return this.auth.changePassword(me, dto);
  }

  @Post('step-up')
  @HttpCode(200)
  @UserAuth()
  @RateLimit('mfaVerify')
  @ApiOperation({
    summary: 'Confirm the password (and MFA code) again, to reveal or replace secrets for STEP_UP_TTL',
    description:
      'Routes that reveal or replace a secret (QR / otpauth URI of a configuration, a new secret, MFA enable and ' +
      'disable, API key rotation) answer `403 STEP_UP_REQUIRED` unless this session stepped up within ' +
      'STEP_UP_TTL (default 300 s). A wrong password or code counts towards the login lockout. A refreshed ' +
      'session starts without a step-up.',
  })
  @ApiOkResponse({ type: StepUpResponseDto })
  @ApiBadRequestResponse({
    description: 'STEP_UP_FAILED: the password or the MFA code is wrong; MFA_CODE_REQUIRED: MFA is on, send mfa_code',
  })
  @ApiLockedResponse('ACCOUNT_LOCKED', 'too many failed password checks')
  stepUp(@CurrentUser() me: UserPrincipal, @Body() dto: StepUpDto): Promise<StepUpResponseDto> {
    return this.auth.stepUp(me, dto);
  }

  @Post('mfa/enable')
  @HttpCode(200)
  @StepUp()
  @UserAuth()
  @ApiOperation({ summary: 'Start TOTP MFA enrolment: secret, otpauth URI and QR code (needs a step-up)' })
  @ApiOkResponse({ type: MfaEnrolmentDto })
  @ApiConflictResponse({ description: 'MFA_ALREADY_ENABLED' })
  enableMfa(@CurrentUser() me: UserPrincipal): Promise<MfaEnrolmentDto> {
    return this.mfa.enable(me);
  }

  @Post('mfa/verify')
  @HttpCode(200)
  @UserAuth()
  @RateLimit('mfaVerify')
  @ApiOperation({ summary: 'Confirm enrolment with a first code; answers 10 single-use recovery codes' })
  @ApiOkResponse({ type: MfaEnabledDto })
  @ApiBadRequestResponse({ description: 'INVALID_MFA_CODE: the code is not valid; VALIDATION_FAILED' })
  @ApiConflictResponse({ description: 'MFA_ALREADY_ENABLED, or MFA_NOT_STARTED (POST auth/mfa/enable first)' })
  verifyMfa(@CurrentUser() me: UserPrincipal, @Body() dto: MfaCodeDto): Promise<MfaEnabledDto> {
    return this.mfa.confirm(me, dto.code);
  }

  @Post('mfa/disable')
  @HttpCode(200)
  @StepUp()
  @UserAuth()
  @RateLimit('mfaVerify')
  @ApiOperation({ summary: 'Turn MFA off with the password and a code (needs a step-up)' })
  @ApiOkResponse({ type: MfaStatusDto })
  @ApiBadRequestResponse({
    description: 'INVALID_PASSWORD: the password is wrong; INVALID_MFA_CODE: the code is not valid; VALIDATION_FAILED',
  })
  @ApiConflictResponse({ description: 'MFA_NOT_ENABLED' })
  @ApiLockedResponse('ACCOUNT_LOCKED', 'too many failed password checks')
  async disableMfa(@CurrentUser() me: UserPrincipal, @Body() dto: MfaDisableDto): Promise<MfaStatusDto> {
    await this.auth.confirmPassword(me, dto.password);
    await this.mfa.disable(me, dto.code);
    return { mfa_enabled: false };
  }
}
