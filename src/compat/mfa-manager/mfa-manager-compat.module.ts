import { Module, OnModuleInit } from '@nestjs/common';
import { CompatErrorShapes } from '#src/compat/compat-error-shapes.js';
import { COMPAT_PATHS } from '#src/compat/compat-paths.js';
import { OtpConfigsModule } from '#src/otp-configs/otp-configs.module.js';
import { MfaManagerCompatController } from './mfa-manager-compat.controller.js';
import { mfaManagerErrorShape } from './mfa-manager-compat.mapper.js';

/** The routes of 001, the personal MFA manager (COMPAT_MFA_MANAGER); contract in MfaManagerCompatController. */
@Module({ imports: [OtpConfigsModule], controllers: [MfaManagerCompatController] })
export class MfaManagerCompatModule implements OnModuleInit {
  constructor(private readonly errorShapes: CompatErrorShapes) {}

  onModuleInit(): void {
    this.errorShapes.register(`/${COMPAT_PATHS.mfaManager}`, mfaManagerErrorShape);
  }
}
