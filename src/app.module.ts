import { DynamicModule, Global, Module, Type } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream, Logger } from 'pino';
import { AuditModule } from './audit/audit.module.js';
import { Clock, SystemClock } from './common/clock.js';
import { nestLoggerParams } from './common/logging.js';
import { ProblemDetailsFilter } from './common/problem-details.filter.js';
import { ConfigModule } from './config/config.module.js';
import type { AppConfig } from './config/config.types.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';

export interface AppOptions {
  /** Replaces the system clock (tests move time without sleeping). */
  clock?: Clock;
  /** Where JSON log lines go; stdout when unset. */
  logDestination?: DestinationStream;
  /** Extra modules mounted beside the service's own (test probes). */
  imports?: Array<Type | DynamicModule>;
}

@Global()
@Module({})
class ClockModule {
  static forRoot(clock: Clock): DynamicModule {
    return { module: ClockModule, providers: [{ provide: Clock, useValue: clock }], exports: [Clock] };
  }
}

@Module({})
export class AppModule {
  static forRoot(
    config: AppConfig & { database: { url: string } },
    logger: Logger,
    options: AppOptions = {},
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ClockModule.forRoot(options.clock ?? new SystemClock()),
        LoggerModule.forRoot(nestLoggerParams(logger)),
        DatabaseModule.forRoot({ ...config.database, url: config.database.url }),
        AuditModule,
        HealthModule,
        ...(options.imports ?? []),
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
    };
  }
}
