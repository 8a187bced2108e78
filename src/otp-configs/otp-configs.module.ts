import { Module } from '@nestjs/common';
import { AuditModule } from '#src/audit/audit.module.js';
import { CryptoModule } from '#src/crypto/crypto.module.js';
import { MetricsRegistryModule } from '#src/metrics/metrics-registry.module.js';
import { OtpCodesService } from './otp-codes.service.js';
import { OtpConfigsController } from './otp-configs.controller.js';
import { OtpConfigsService } from './otp-configs.service.js';
import { OtpConfigTransferService } from './otp-config-transfer.service.js';
import { OtpEventsService } from './otp-events.service.js';
import { OtpController } from './otp.controller.js';

/** A person's authenticator accounts, their codes and their history. */
@Module({
  imports: [AuditModule, CryptoModule, MetricsRegistryModule],
  controllers: [OtpConfigsController, OtpController],
  providers: [OtpConfigsService, OtpConfigTransferService, OtpCodesService, OtpEventsService],
  exports: [OtpConfigsService, OtpCodesService, OtpEventsService],
})
export class OtpConfigsModule {}
