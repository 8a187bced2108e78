import { Module, OnModuleInit } from '@nestjs/common';
import { DevicesModule } from '#src/devices/devices.module.js';
import { HealthModule } from '#src/health/health.module.js';
import { CompatErrorShapes } from '../compat-error-shapes.js';
import { COMPAT_PATHS } from '../compat-paths.js';
import { DeviceOtpCompatController } from './device-otp-compat.controller.js';
import { deviceOtpErrorShape } from './device-otp-error-shape.js';

/** The routes of 002, the enterprise device OTP service (COMPAT_DEVICE_OTP). */
@Module({
  imports: [DevicesModule, HealthModule],
  controllers: [DeviceOtpCompatController],
})
export class DeviceOtpCompatModule implements OnModuleInit {
  constructor(private readonly errorShapes: CompatErrorShapes) {}

  onModuleInit(): void {
    this.errorShapes.register(`/${COMPAT_PATHS.deviceOtp}`, deviceOtpErrorShape);
  }
}
