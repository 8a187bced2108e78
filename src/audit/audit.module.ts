import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseOutageModule } from '#src/database/database-outage.module.js';
import { AuditAnchor } from './audit-anchor.entity.js';
import { AuditChainService } from './audit-chain.service.js';
import { AuditLog } from './audit-log.entity.js';
import { AuditQueryService } from './audit-query.service.js';
import { AuditRetentionService } from './audit-retention.service.js';
import { AuditController } from './audit.controller.js';
import { AuditService } from './audit.service.js';

/** The audit trail: records (in the caller's transaction), queries, the hash chain and retention. */
@Module({
  imports: [TypeOrmModule.forFeature([AuditLog, AuditAnchor]), DatabaseOutageModule],
  controllers: [AuditController],
  providers: [AuditService, AuditChainService, AuditQueryService, AuditRetentionService],
  exports: [AuditService, AuditQueryService, AuditChainService, AuditRetentionService],
})
export class AuditModule {}
