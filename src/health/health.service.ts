import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
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
  ) {}

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
      timer = setTimeout(() => reject(new Error('database ping timed out')), PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.dataSource.query('SELECT 1'), timeout]);
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
