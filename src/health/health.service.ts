import { Inject, Injectable } from '@nestjs/common';
import { InjectThrottlerStorage, ThrottlerStorage } from '@nestjs/throttler';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RedisThrottlerStorage } from '#src/common/rate-limit/redis-throttler.storage.js';
import { DatabaseOutage } from '#src/database/database-outage.service.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';

const PING_TIMEOUT_MS = 2000;

@Injectable()
export class HealthService {
  private last?: { at: number; up: boolean };
  private pending?: Promise<boolean>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectThrottlerStorage() private readonly rateLimitStore: ThrottlerStorage,
    private readonly outage: DatabaseOutage,
  ) {}

  /**
   * Whether the shared rate-limit store answers, as the storage last found it (no round trip);
   * undefined when REDIS_URL is unset.
   */
  redis(): 'up' | 'down' | undefined {
    if (!(this.rateLimitStore instanceof RedisThrottlerStorage)) return undefined;
    return this.rateLimitStore.shared ? 'up' : 'down';
  }

  /**
   * True when a trivial query answers in time. Concurrent checks share one ping and a
   * result is reused for `HEALTH_CACHE_MS`, so probes under load do not queue on the pool.
   */
  async databaseUp(): Promise<boolean> {
    const now = performance.now();
    if (this.last && now - this.last.at < this.config.healthCacheMs) return this.last.up;
    this.pending ??= this.ping().then((up) => {
      this.last = { at: performance.now(), up };
      this.pending = undefined;
      return up;
    });
    return this.pending;
  }

  private async ping(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error('database ping timed out'), { code: 'ETIMEDOUT' })),
        PING_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([this.dataSource.query('SELECT 1'), timeout]);
      this.outage.reachable();
      return true;
    } catch (error) {
      // The first failure of an outage is logged there, once, even when no request comes.
      this.outage.report(error);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
