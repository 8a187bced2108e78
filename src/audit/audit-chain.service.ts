import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, MoreThan } from 'typeorm';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { AuditLog } from './audit-log.entity.js';
import { auditRowHash, ChainedAuditRow, GENESIS_HASH } from './audit-chain.js';

/** Arbitrary constant naming the advisory lock that makes one sealer run at a time across instances. */
const SEAL_LOCK_ID = 0x0a0d17;
const SEAL_BATCH = 500;
const VERIFY_BATCH = 1000;

export interface ChainVerification {
  ok: boolean;
  checked: number;
  firstBrokenId: string | null;
  unsealed: number;
}

/**
 * Links audit rows into a hash chain after they are written. Writers insert freely; the
 * sealer, under an advisory lock, gives unsealed rows the next chain positions in id
 * order, so a row committed late by a slow transaction is simply sealed in a later batch.
 */
@Injectable()
export class AuditChainService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuditChainService.name);
  private timer?: NodeJS.Timeout;
  private sealing?: Promise<number>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.sealPending().catch((error: unknown) => this.logger.error({ err: error }, 'audit sealing failed'));
    }, this.config.audit.sealIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sealing?.catch(() => undefined);
  }

  /** Seals every row written so far; returns how many were sealed. */
  sealPending(): Promise<number> {
    // One local run at a time; the advisory lock covers other instances.
    this.sealing ??= this.sealAll().finally(() => (this.sealing = undefined));
    return this.sealing;
  }

  private async sealAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const sealed = await this.sealBatch();
      total += sealed;
      if (sealed < SEAL_BATCH) return total;
    }
  }

  private sealBatch(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [SEAL_LOCK_ID]);
      const repo = manager.getRepository(AuditLog);
      const rows = await repo.find({ where: { hash: IsNull() }, order: { id: 'ASC' }, take: SEAL_BATCH });
      if (rows.length === 0) return 0;
      const head = await repo.findOne({ where: { seq: MoreThan('0') }, order: { seq: 'DESC' } });
      let seq = BigInt(head?.seq ?? 0);
      let prevHash = head?.hash ?? GENESIS_HASH;
      const links = rows.map((row) => {
        seq += 1n;
        const hash = auditRowHash({ ...row, seq: String(seq) } as ChainedAuditRow, prevHash);
        const link = { id: row.id, seq: String(seq), prevHash, hash };
        prevHash = hash;
        return link;
      });
      await manager.query(
        `UPDATE audit_logs AS a SET seq = l.seq, prev_hash = l.prev_hash, hash = l.hash
           FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS l(id, seq, prev_hash, hash)
          WHERE a.id = l.id`,
        [links.map((l) => l.id), links.map((l) => l.seq), links.map((l) => l.prevHash), links.map((l) => l.hash)],
      );
      return links.length;
    });
  }

  /** Re-computes every sealed link in chain order and reports the first row that does not fit. */
  async verify(): Promise<ChainVerification> {
    const repo = this.dataSource.getRepository(AuditLog);
    let checked = 0;
    let prevHash = GENESIS_HASH;
    let lastSeq = 0n;
    for (;;) {
      const rows = await repo.find({
        where: { seq: MoreThan(String(lastSeq)) },
        order: { seq: 'ASC' },
        take: VERIFY_BATCH,
      });
      for (const row of rows) {
        const seq = BigInt(row.seq!);
        const intact =
          seq === lastSeq + 1n &&
          row.prevHash === prevHash &&
          row.hash === auditRowHash(row as ChainedAuditRow, prevHash);
        if (!intact) return { ok: false, checked, firstBrokenId: row.id, unsealed: await this.countUnsealed() };
        checked += 1;
        prevHash = row.hash!;
        lastSeq = seq;
      }
      if (rows.length < VERIFY_BATCH) {
        return { ok: true, checked, firstBrokenId: null, unsealed: await this.countUnsealed() };
      }
    }
  }

  private countUnsealed(): Promise<number> {
    return this.dataSource.getRepository(AuditLog).count({ where: { hash: IsNull() } });
  }
}
