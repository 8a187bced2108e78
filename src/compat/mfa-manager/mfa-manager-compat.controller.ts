import { Controller, Get, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, UserAuth } from '#src/common/auth/auth.decorators.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { RateLimit } from '#src/common/rate-limit/rate-limit.policies.js';
import { COMPAT_PATHS } from '#src/compat/compat-paths.js';
import { configNotFound } from '#src/otp-configs/otp-configs.service.js';
import { OtpCodesService } from '#src/otp-configs/otp-codes.service.js';
import { MfaManagerCompatCodeDto, MfaManagerCompatErrorDto } from './mfa-manager-compat.dto.js';
import { toCompatCode } from './mfa-manager-compat.mapper.js';

/** An id that is no uuid names no account of the caller's: 404, as the manager answered an unknown id. */
export const AccountIdParam = new ParseUUIDPipe({ exceptionFactory: configNotFound });

/** The personal MFA manager's two read routes; their contract is MfaManagerCompatModule's. */
@ApiTags('compat 001: MFA manager')
@UserAuth()
@ApiResponse({ status: '4XX', type: MfaManagerCompatErrorDto, description: 'Refused: `{"error": "..."}`' })
@ApiResponse({ status: '5XX', type: MfaManagerCompatErrorDto, description: 'Failed: `{"error": "..."}`' })
@Controller(COMPAT_PATHS.mfaManager)
export class MfaManagerCompatController {
  constructor(private readonly codes: OtpCodesService) {}

  @Get('api/codes')
  @RateLimit('otpGenerate')
  @ApiOperation({ summary: 'The current code of every active TOTP configuration (as GET /api/v1/otp/codes)' })
  @ApiOkResponse({ type: [MfaManagerCompatCodeDto] })
  async list(@CurrentUser() me: UserPrincipal): Promise<MfaManagerCompatCodeDto[]> {
    const { items } = await this.codes.liveCodes(me);
    return items.map(toCompatCode);
  }

  @Get('api/code/:id')
  @RateLimit('otpGenerate')
  @ApiParam({ name: 'id', format: 'uuid', description: "The configuration's id, as `GET api/codes` lists it" })
  @ApiOperation({ summary: 'The current code of one TOTP configuration (as GET /api/v1/otp/codes/{id})' })
  @ApiOkResponse({ type: MfaManagerCompatCodeDto })
  @ApiNotFoundResponse({ description: '`{"error": "Account not found"}`: unknown, not yours, deactivated or HOTP' })
  async one(
    @CurrentUser() me: UserPrincipal,
    @Param('id', AccountIdParam) id: string,
  ): Promise<MfaManagerCompatCodeDto> {
    return toCompatCode(await this.codes.liveCodeOf(me, id));
  }
}
