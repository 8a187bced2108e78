import { DynamicModule, Global, Module, Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream, Logger } from 'pino';
import { ApiKeysModule } from './api-keys/api-keys.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { AuthenticationGuard } from './auth/guards/authentication.guard.js';
import { RolesGuard } from './auth/guards/roles.guard.js';
import { ScopesGuard } from './auth/guards/scopes.guard.js';
import { RefusalAudit } from './common/auth/refusal-audit.js';
import { Clock, SystemClock } from './common/clock.js';
import { nestLoggerParams } from './common/logging.js';
import { AuthFailureLimitGuard } from './common/rate-limit/auth-failure-limit.guard.js';
import { RateLimitGuard } from './common/rate-limit/rate-limit.guard.js';
import { RateLimitModule } from './common/rate-limit/rate-limit.module.js';
import { ProblemDetailsFilter } from './common/problem-details.filter.js';
import { ConfigModule } from './config/config.module.js';
import type { AppConfig } from './config/config.types.js';
import { DatabaseOutageModule } from './database/database-outage.module.js';
import { DatabaseModule } from './database/database.module.js';
import { DevicesModule } from './devices/devices.module.js';
import { HealthModule } from './health/health.module.js';
import { UsageKeysModule } from './keys/usage-keys.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { OtpConfigsModule } from './otp-configs/otp-configs.module.js';
import { UsersModule } from './users/users.module.js';
import { StoredSecretsCheckModule } from './crypto/stored-secrets-check.js';
import { CompatErrorShapesModule } from './compat/compat-error-shapes.js';
import { CompatModule } from './compat/compat.module.js';

export interface AppOptions {
  /** Replaces the system clock (tests move time without sleeping). */
  clock?: Clock;
  /** Where JSON log lines go; stdout when unset. */
  logDestination?: DestinationStream;
  /** Extra modules mounted beside the service's own (test probes). */
  imports?: Array<Type | DynamicModule>;
  /** The database is the embedded one this process started and alone opens (see InvalidationChannel). */
  exclusiveDatabase?: boolean;
}

/** Global, as config and the logger are: nearly every provider reads the clock. */
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
        DatabaseModule.forRoot({
          ...config.database,
          url: config.database.url,
          exclusive: options.exclusiveDatabase ?? false,
        }),
        // What the app-wide filter and guards below use.
        DatabaseOutageModule,
        AuditModule,
        RateLimitModule,
        AuthModule,
        // The feature modules; each imports what it uses.
        HealthModule,
        MetricsModule,
        UsersModule,
        ApiKeysModule,
        OtpConfigsModule,
        UsageKeysModule,
        DevicesModule,
        // The replaced systems' routes, each off unless switched on.
        CompatErrorShapesModule,
        CompatModule.forRoot(config.compat),
        // Refuses to start when the key ring cannot read the stored secrets.
        StoredSecretsCheckModule,
        ...(options.imports ?? []),
      ],
      providers: [
        // Every refusal is counted and audited where it is answered.
        RefusalAudit,
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        // Global guards run in this order.
        // An address past its limit of refused requests: 429 before any credential is tried.
        { provide: APP_GUARD, useExisting: AuthFailureLimitGuard },
        // The route's passport guard (JWT, API key or either); no rule, no access.
        { provide: APP_GUARD, useExisting: AuthenticationGuard },
        { provide: APP_GUARD, useExisting: RolesGuard },
        { provide: APP_GUARD, useExisting: ScopesGuard },
        // After authentication, so limits can key on the caller.
        { provide: APP_GUARD, useExisting: RateLimitGuard },
      ],
    };
  }
}
