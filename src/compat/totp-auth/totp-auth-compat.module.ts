import { Module, OnModuleInit } from '@nestjs/common';
import { DevicesModule } from '#src/devices/devices.module.js';
import { CompatErrorShapes } from '../compat-error-shapes.js';
import { COMPAT_PATHS } from '../compat-paths.js';
import { TotpAuthCompatController } from './totp-auth-compat.controller.js';
import { totpAuthErrorShape } from './totp-auth-error-shape.js';

/** The routes of 003, the TOTP registration service (COMPAT_TOTP_AUTH). */
@Module({
  imports: [DevicesModule],
  controllers: [TotpAuthCompatController],
})
export class TotpAuthCompatModule implements OnModuleInit {
  constructor(private readonly errorShapes: CompatErrorShapes) {}

  onModuleInit(): void {
    this.errorShapes.register(`/${COMPAT_PATHS.totpAuth}`, totpAuthErrorShape);
  }
}
