import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '#src/common/clock.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { AuditChainService, PruneResult } from './audit-chain.service.js';
import { AuditService } from './audit.service.js';

const DAY_MS = 86_400_000;
/** How often old records are looked for when AUDIT_RETENTION_DAYS is set. */
export const RETENTION_INTERVAL_MS = 3_600_000;

/**
 * Applies AUDIT_RETENTION_DAYS: every hour, sealed records older than the retention period
 * are removed (see AuditChainService.pruneBefore) and the removal is itself audited.
 * 0 (the default) keeps every record.
 */
@Injectable()
export class AuditRetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuditRetentionService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<PruneResult | null>;

  constructor(
    private readonly chain: AuditChainService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.audit.retentionDays <= 0) return;
    this.timer = setInterval(() => {
      this.prune().catch((error: unknown) => this.logger.error({ err: error }, 'audit retention failed'));
    }, RETENTION_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Removes what the retention period allows; null when retention is off. One run at a time. */
  prune(): Promise<PruneResult | null> {
    this.running ??= this.pruneOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pruneOnce(): Promise<PruneResult | null> {
    const days = this.config.audit.retentionDays;
    if (days <= 0) return null;
    const cutoff = new Date(this.clock.now().getTime() - days * DAY_MS);
    const result = await this.chain.pruneBefore(cutoff);
    if (result.pruned > 0) {
      await this.audit.record({
        actorType: 'system',
        action: 'audit.prune',
        resource: 'audit_log',
        status: 'success',
        details: { pruned: result.pruned, anchor_seq: result.anchorSeq, cutoff: cutoff.toISOString(), days },
      });
      this.logger.log(`audit retention removed ${result.pruned} records older than ${cutoff.toISOString()}`);
    }
    return result;
  }
}
