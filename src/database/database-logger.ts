import { Logger as NestLogger } from '@nestjs/common';
import type { Logger } from 'typeorm';
import { loggableError } from '#src/common/loggable-error.js';

/**
 * TypeORM's logger: statements and error codes only, never parameter values (TypeORM's own
 * loggers print them). Queries are not logged (one call per statement on every hot path);
 * a failed statement is logged at debug level — most are expected (a taken name is a 409),
 * and an unexpected one reaches the exception filter, which logs it as an error.
 */
export class DatabaseLogger implements Logger {
  private readonly logger = new NestLogger('Database');

  logQuery(): void {}

  logQueryError(error: string | Error, query: string, parameters?: unknown[] | object): void {
    // Shaped like the QueryFailedError TypeORM throws next, so the same rules mask it.
    const driverError = typeof error === 'string' ? { message: error } : error;
    const { sql, code, constraint, message } = loggableError({
      message: driverError.message,
      query,
      parameters,
      driverError,
    });
    this.logger.debug({ sql, code, constraint, message }, 'statement failed');
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ sql: query, durationMs: time }, 'slow statement');
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(message);
    else this.logger.log(message);
  }
}
