import { Module } from '@nestjs/common';
import { OtpCodesService } from './otp-codes.service.js';
import { OtpConfigsController } from './otp-configs.controller.js';
import { OtpConfigsService } from './otp-configs.service.js';
import { OtpEventsService } from './otp-events.service.js';
import { OtpController } from './otp.controller.js';

/** A person's authenticator accounts, their codes and their history. */
@Module({
  controllers: [OtpConfigsController, OtpController],
  providers: [OtpConfigsService, OtpCodesService, OtpEventsService],
  exports: [OtpEventsService],
})
export class OtpConfigsModule {}
