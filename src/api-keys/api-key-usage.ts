import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

const FLUSH_INTERVAL_MS = 1000;

/**
 * Counts API key uses in memory and adds them to `api_keys` about once a second, in one
 * statement. Writing the row on every request would make every request of a busy key
 * wait for the one before it (a row lock per use); increments add up, so instances
 * flushing the same key never lose a use.
 */
@Injectable()
export class ApiKeyUsage implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(ApiKeyUsage.name);
  private pending = new Map<string, { uses: number; lastUsedAt: Date }>();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    this.timer = setInterval(
      () => void this.flush().catch((e: Error) => this.logger.warn(`flush: ${e.message}`)),
      FLUSH_INTERVAL_MS,
    );
    this.timer.unref();
  }

  record(apiKeyId: string, at: Date): void {
    const entry = this.pending.get(apiKeyId);
    if (entry) {
      entry.uses += 1;
      if (at > entry.lastUsedAt) entry.lastUsedAt = at;
    } else {
      this.pending.set(apiKeyId, { uses: 1, lastUsedAt: at });
    }
  }

  /** Writes what was counted so far; reads that report usage call it first. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const ids = [...batch.keys()];
    try {
      await this.dataSource.query(
        `UPDATE api_keys k
            SET usage_count = k.usage_count + u.uses,
                last_used_at = GREATEST(k.last_used_at, u.last_used_at)
           FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[]) AS u(id, uses, last_used_at)
          WHERE k.id = u.id`,
        [ids, ids.map((id) => batch.get(id)!.uses), ids.map((id) => batch.get(id)!.lastUsedAt)],
      );
    } catch (error) {
      // Keep the counts for the next attempt rather than lose them.
      for (const [id, entry] of batch) {
        const current = this.pending.get(id);
        if (current) {
          current.uses += entry.uses;
          if (entry.lastUsedAt > current.lastUsedAt) current.lastUsedAt = entry.lastUsedAt;
        } else this.pending.set(id, entry);
      }
      throw error;
    }
  }
}
