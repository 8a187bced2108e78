import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '#src/audit/audit.module.js';
import { CryptoModule } from '#src/crypto/crypto.module.js';
import { MetricsRegistryModule } from '#src/metrics/metrics-registry.module.js';
import { UsageKeyEvent } from './usage-key-event.entity.js';
import { UsageKey } from './usage-key.entity.js';
import { UsageKeysAdminController, UsageKeysUseController } from './usage-keys.controller.js';
import { UsageKeysService } from './usage-keys.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([UsageKey, UsageKeyEvent]), AuditModule, CryptoModule, MetricsRegistryModule],
  // The use routes first, so `POST keys/code` is never read as a key name.
  controllers: [UsageKeysUseController, UsageKeysAdminController],
  providers: [UsageKeysService],
  exports: [UsageKeysService],
})
export class UsageKeysModule {}
