import { Module } from '@nestjs/common';

/** The routes of 004, the multi-user OTP microservice (COMPAT_OTP_MICROSERVICE). */
@Module({})
export class OtpMicroserviceCompatModule {}
