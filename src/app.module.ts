import { DynamicModule, Global, Module, Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream, Logger } from 'pino';
import { ApiKeysModule } from './api-keys/api-keys.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthGuard } from './auth/auth.guard.js';
import { AuthModule } from './auth/auth.module.js';
import { Clock, SystemClock } from './common/clock.js';
import { nestLoggerParams } from './common/logging.js';
import { RateLimitGuard } from './common/rate-limit/rate-limit.guard.js';
import { RateLimitModule } from './common/rate-limit/rate-limit.module.js';
import { ProblemDetailsFilter } from './common/problem-details.filter.js';
import { ConfigModule } from './config/config.module.js';
import type { AppConfig } from './config/config.types.js';
import { CryptoModule } from './crypto/crypto.module.js';
import { DatabaseModule } from './database/database.module.js';
import { DevicesModule } from './devices/devices.module.js';
import { HealthModule } from './health/health.module.js';
import { UsageKeysModule } from './keys/usage-keys.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { OtpConfigsModule } from './otp-configs/otp-configs.module.js';
import { UsersModule } from './users/users.module.js';

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
        MetricsModule,
        RateLimitModule.forRoot(config),
        CryptoModule,
        HealthModule,
        UsersModule,
        AuthModule,
        ApiKeysModule,
        OtpConfigsModule,
        UsageKeysModule,
        DevicesModule,
        ...(options.imports ?? []),
      ],
      providers: [
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        // Global guards run in this order.
        { provide: APP_GUARD, useExisting: AuthGuard },
        // After authentication, so limits can key on the caller.
        { provide: APP_GUARD, useExisting: RateLimitGuard },
      ],
    };
  }
}
