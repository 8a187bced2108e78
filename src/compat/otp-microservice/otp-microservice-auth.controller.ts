import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ChangePasswordDto, MfaEnabledDto, MfaEnrolmentDto } from '#src/auth/dto/auth.dto.js';
import { CurrentUser, StepUp, UserAuth, VerifiesCredentials } from '#src/common/auth/auth.decorators.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { ApiLockedResponse } from '#src/common/locked-response.decorator.js';
import { Public } from '#src/common/public.decorator.js';
import { RateLimit } from '#src/common/rate-limit/rate-limit.policies.js';
import { COMPAT_PATHS } from '#src/compat/compat-paths.js';
import { RegisterDto } from '#src/users/dto/user.dto.js';
import {
  BearerTokenDto,
  MessageDto,
  MicroserviceMfaDisableDto,
  MicroserviceMfaVerifyDto,
  MicroserviceUserDto,
  TokenRequestDto,
} from './dto/otp-microservice.dto.js';
import { OtpMicroserviceService } from './otp-microservice.service.js';
import { FORM_CONTENT_TYPE } from './token-form-parser.js';

export const OTP_MICROSERVICE_TAG = 'compat: otp-microservice';

/** Sign-up, the OAuth2 token, the signed-in user, MFA and password change of the replaced microservice. */
@ApiTags(OTP_MICROSERVICE_TAG)
@Controller(COMPAT_PATHS.otpMicroservice)
export class OtpMicroserviceAuthController {
  constructor(private readonly service: OtpMicroserviceService) {}

  @Post('token')
  @HttpCode(200)
  @Public()
  @VerifiesCredentials()
  @RateLimit('login')
  @ApiConsumes(FORM_CONTENT_TYPE, 'application/json')
  @ApiOperation({
    summary: 'OAuth2 password grant (form or JSON: username, password, mfa_code when MFA is on)',
    description:
      'The sign-in of POST /api/v1/auth/login: same lockout, limits and audit. Without a needed MFA code: 401.',
  })
  @ApiOkResponse({ type: BearerTokenDto })
  @ApiLockedResponse('ACCOUNT_LOCKED', 'too many failed sign-ins for this username')
  token(@Body() dto: TokenRequestDto): Promise<BearerTokenDto> {
    return this.service.token(dto);
  }

  @Post('users')
  @HttpCode(200)
  @Public()
  @RateLimit('register')
  @ApiOperation({ summary: 'Sign up (also at users/); the password policy of POST /api/v1/auth/register' })
  @ApiOkResponse({ type: MicroserviceUserDto })
  signUp(@Body() dto: RegisterDto): Promise<MicroserviceUserDto> {
    return this.service.signUp(dto);
  }

  @Get('users/me')
  @UserAuth({ allowPendingPasswordChange: true })
  @ApiOperation({ summary: 'The signed-in user (also at users/me/)' })
  @ApiOkResponse({ type: MicroserviceUserDto })
  me(@CurrentUser() me: UserPrincipal): Promise<MicroserviceUserDto> {
    return this.service.me(me);
  }

  @Post('users/me/mfa/enable')
  @HttpCode(200)
  @StepUp()
  @UserAuth()
  @ApiOperation({
    summary: 'Start MFA enrolment: secret, otpauth URI, QR (after POST /api/v1/auth/step-up, as the own API)',
  })
  @ApiOkResponse({ type: MfaEnrolmentDto })
  enableMfa(@CurrentUser() me: UserPrincipal): Promise<MfaEnrolmentDto> {
    return this.service.enableMfa(me);
  }

  @Post('users/me/mfa/verify')
  @HttpCode(200)
  @UserAuth()
  @RateLimit('mfaVerify')
  @ApiOperation({ summary: 'Confirm enrolment with a first mfa_code; answers the recovery codes' })
  @ApiOkResponse({ type: MfaEnabledDto })
  verifyMfa(@CurrentUser() me: UserPrincipal, @Body() dto: MicroserviceMfaVerifyDto): Promise<MfaEnabledDto> {
    return this.service.verifyMfa(me, dto.mfa_code);
  }

  @Post('users/me/mfa/disable')
  @HttpCode(200)
  @StepUp()
  @UserAuth()
  @RateLimit('mfaVerify')
  @ApiOperation({ summary: 'Turn MFA off with the password and an mfa_code (after a step-up, as the own API)' })
  @ApiLockedResponse('ACCOUNT_LOCKED', 'too many failed password checks')
  disableMfa(
    @CurrentUser() me: UserPrincipal,
    @Body() dto: MicroserviceMfaDisableDto,
  ): Promise<{ mfa_enabled: false; message: string }> {
    return this.service.disableMfa(me, dto);
  }

  @Post('users/me/change-password')
  @HttpCode(200)
  @UserAuth({ allowPendingPasswordChange: true })
  @ApiOperation({ summary: 'Change my password (current_password, new_password); my other sessions end' })
  @ApiOkResponse({ type: MessageDto })
  @ApiLockedResponse('ACCOUNT_LOCKED', 'too many failed password checks')
  async changePassword(@CurrentUser() me: UserPrincipal, @Body() dto: ChangePasswordDto): Promise<MessageDto> {
    await this.service.changePassword(me, dto);
    return { message: 'Password changed successfully' };
  }
}
