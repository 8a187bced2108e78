import { Module } from '@nestjs/common';

/** The routes of 002, the enterprise device OTP service (COMPAT_DEVICE_OTP). */
@Module({})
export class DeviceOtpCompatModule {}
