import type { EventEmitter } from 'node:events';
import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable, unavailableReason } from './database-unavailable.js';

/**
 * Tells database outages from other errors and keeps the log quiet during one: the first
 * failure of an outage logs one warning, later ones nothing; the next connection the pool
 * opens, or the next health ping that answers (the database is back), logs one line and
 * re-arms the warning.
 */
@Injectable()
export class DatabaseOutage implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Database');
  private down = false;
  private readonly onConnect = (): void => this.reachable();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    this.pool()?.on('connect', this.onConnect);
  }

  onModuleDestroy(): void {
    this.pool()?.off('connect', this.onConnect);
  }

  /** True when `error` means the database cannot be reached (the caller answers 503, logging nothing). */
  report(error: unknown): boolean {
    if (!isDatabaseUnavailable(error)) return false;
    if (!this.down) {
      this.down = true;
      this.logger.warn(`database unreachable (${unavailableReason(error)}): answering 503 until it is back`);
    }
    return true;
  }

  /** The database answered (a new pool connection, a health ping): ends an outage, re-arming the warning. */
  reachable(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.log('database reachable again');
  }

  /** node-postgres's pool behind TypeORM's driver. */
  private pool(): EventEmitter | undefined {
    return (this.dataSource.driver as unknown as { master?: EventEmitter }).master;
  }
}
