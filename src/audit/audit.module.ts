import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditAnchor } from './audit-anchor.entity.js';
import { AuditChainService } from './audit-chain.service.js';
import { AuditLog } from './audit-log.entity.js';
import { AuditQueryService } from './audit-query.service.js';
import { AuditRetentionService } from './audit-retention.service.js';
import { AuditController } from './audit.controller.js';
import { AuditService } from './audit.service.js';

/** Global: every module records audit entries. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditLog, AuditAnchor])],
  controllers: [AuditController],
  providers: [AuditService, AuditChainService, AuditQueryService, AuditRetentionService],
  exports: [AuditService, AuditChainService, AuditRetentionService],
})
export class AuditModule {}
