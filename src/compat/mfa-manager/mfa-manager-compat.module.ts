import { Module, OnModuleInit } from '@nestjs/common';
import { CompatErrorShapes } from '#src/compat/compat-error-shapes.js';
import { COMPAT_PATHS } from '#src/compat/compat-paths.js';
import { OtpConfigsModule } from '#src/otp-configs/otp-configs.module.js';
import { MfaManagerCompatController } from './mfa-manager-compat.controller.js';
import { mfaManagerErrorShape } from './mfa-manager-compat.mapper.js';

/**
 * The routes of 001, the personal MFA manager (COMPAT_MFA_MANAGER), under `/compat/mfa-manager`,
 * with its field names. No recording of its answers was at hand: this contract comes from its
 * documented shapes, and test/compat-mfa-manager.e2e-spec.ts holds it.
 *
 * - `GET api/codes` → 200 a bare array `[{account_name, id, remaining_time, totp_code}]`: every active
 *   TOTP configuration of the signed-in person, by name (`account_name` is the configuration's name,
 *   `id` its uuid, stable for its lifetime).
 * - `GET api/code/<id>` → 200 one such object; 404 `{"error": "Account not found"}` for an id that is
 *   unknown, another person's, deactivated, HOTP (none of which the list shows) or no uuid at all.
 * - Other refusals: `{"error": "..."}` with the service's status (401, 429 with Retry-After, 503…).
 *
 * The manager was a single-user local app without sign-in; here the person signs in (a JWT, as
 * for /api/v1/otp/codes, which these routes mirror with the same service and rate limit).
 */
@Module({ imports: [OtpConfigsModule], controllers: [MfaManagerCompatController] })
export class MfaManagerCompatModule implements OnModuleInit {
  constructor(private readonly errorShapes: CompatErrorShapes) {}

  onModuleInit(): void {
    this.errorShapes.register(`/${COMPAT_PATHS.mfaManager}`, mfaManagerErrorShape);
  }
}
