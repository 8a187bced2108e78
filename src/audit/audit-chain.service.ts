import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull, MoreThan } from 'typeorm';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { DatabaseOutage } from '#src/database/database-outage.service.js';
import { AuditAnchor } from './audit-anchor.entity.js';
import { AuditLog } from './audit-log.entity.js';
import { auditRowHash, ChainedAuditRow, GENESIS_HASH } from './audit-chain.js';

/** Arbitrary constant naming the advisory lock that makes one sealer run at a time across instances. */
const SEAL_LOCK_ID = 0x0a0d17;
const SEAL_BATCH = 500;
const VERIFY_BATCH = 1000;
const PRUNE_BATCH = 5000;

export interface ChainVerification {
  ok: boolean;
  checked: number;
  firstBrokenId: string | null;
  unsealed: number;
  /** The last chain position removed by retention; the check starts after it. */
  anchorSeq: string | null;
}

export interface PruneResult {
  /** Rows removed by this run. */
  pruned: number;
  /** The newest anchor after the run (null when nothing was ever pruned). */
  anchorSeq: string | null;
}

interface ChainStart {
  seq: bigint;
  hash: string;
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
    private readonly outage: DatabaseOutage,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      // During a database outage the next tick retries; the outage is warned about once.
      this.sealPending().catch(
        (error: unknown) => this.outage.report(error) || this.logger.error({ err: error }, 'audit sealing failed'),
      );
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
      // With every sealed row pruned, the chain goes on from the retention anchor.
      const start = head ? { seq: BigInt(head.seq!), hash: head.hash! } : await this.chainStart(manager);
      let seq = start.seq;
      let prevHash = start.hash;
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

  /**
   * Re-computes every sealed link in chain order, from the retention anchor (or the genesis
   * hash), and reports the first row that does not fit. When retention moves the anchor
   * during the check, the check starts again from the new anchor.
   */
  async verify(): Promise<ChainVerification> {
    for (let attempt = 0; ; attempt++) {
      const start = await this.chainStart(this.dataSource.manager);
      const result = await this.verifyFrom(start);
      if (result.ok || attempt >= 2) return result;
      const now = await this.chainStart(this.dataSource.manager);
      if (now.seq === start.seq) return result;
    }
  }

  private async verifyFrom(start: ChainStart): Promise<ChainVerification> {
    const repo = this.dataSource.getRepository(AuditLog);
    const anchorSeq = start.seq > 0n ? String(start.seq) : null;
    let checked = 0;
    let prevHash = start.hash;
    let lastSeq = start.seq;
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
        if (!intact) {
          return { ok: false, checked, firstBrokenId: row.id, unsealed: await this.countUnsealed(), anchorSeq };
        }
        checked += 1;
        prevHash = row.hash!;
        lastSeq = seq;
      }
      if (rows.length < VERIFY_BATCH) {
        return { ok: true, checked, firstBrokenId: null, unsealed: await this.countUnsealed(), anchorSeq };
      }
    }
  }

  /**
   * Removes the sealed rows created before `cutoff`, oldest chain position first, and stops at
   * the first row that is not old enough (so only a prefix of the chain ever goes). Works in
   * batches, each under the sealer's lock, and records in `audit_anchors` where the kept chain
   * starts, so `verify()` still passes for what remains.
   */
  async pruneBefore(cutoff: Date): Promise<PruneResult> {
    let pruned = 0;
    let anchorId: string | undefined;
    for (;;) {
      const batch = await this.dataSource.transaction(async (manager) => {
        await manager.query('SELECT pg_advisory_xact_lock($1)', [SEAL_LOCK_ID]);
        const start = await this.chainStart(manager);
        const rows: Array<{ seq: string; hash: string; old: boolean }> = await manager.query(
          `SELECT seq, hash, created_at < $3 AS old FROM audit_logs
            WHERE seq > $1 ORDER BY seq LIMIT $2`,
          [String(start.seq), PRUNE_BATCH, cutoff],
        );
        const stop = rows.findIndex((row) => !row.old);
        const removable = stop === -1 ? rows : rows.slice(0, stop);
        const last = removable.at(-1);
        if (!last) return { removed: 0, more: false, seq: start.seq > 0n ? String(start.seq) : null };
        await manager.query('DELETE FROM audit_logs WHERE seq > $1 AND seq <= $2', [String(start.seq), last.seq]);
        const anchor = {
          prunedThroughSeq: last.seq,
          prunedThroughHash: last.hash,
          prunedRows: String(pruned + removable.length),
          cutoff,
        };
        // One anchor row per run, moved forward batch by batch.
        if (anchorId) await manager.update(AuditAnchor, { id: anchorId }, anchor);
        else anchorId = (await manager.save(manager.create(AuditAnchor, anchor))).id;
        return { removed: removable.length, more: stop === -1 && rows.length === PRUNE_BATCH, seq: last.seq };
      });
      pruned += batch.removed;
      if (!batch.more) return { pruned, anchorSeq: batch.seq };
    }
  }

  /** The chain position verification starts after, and the hash the next row must link to. */
  private async chainStart(manager: EntityManager): Promise<ChainStart> {
    const anchor = await manager.findOne(AuditAnchor, { where: {}, order: { prunedThroughSeq: 'DESC' } });
    return anchor
      ? { seq: BigInt(anchor.prunedThroughSeq), hash: anchor.prunedThroughHash }
      : { seq: 0n, hash: GENESIS_HASH };
  }

  private countUnsealed(): Promise<number> {
    return this.dataSource.getRepository(AuditLog).count({ where: { hash: IsNull() } });
  }
}
