import { Module } from '@nestjs/common';
import { ThrottlerModule, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { Redis } from 'ioredis';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { MetricsRegistry } from '#src/metrics/metrics-registry.js';
import { MetricsRegistryModule } from '#src/metrics/metrics-registry.module.js';
import { UsersModule } from '#src/users/users.module.js';
import { AuthFailureLimitGuard } from './auth-failure-limit.guard.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { MemoryThrottlerStorage } from './memory-throttler.storage.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { RedisThrottlerStorage } from './redis-throttler.storage.js';

/**
 * Rate limits on @nestjs/throttler: one default limit per caller per minute, stricter
 * named policies on sensitive routes. With REDIS_URL the counts live in Redis, shared by
 * every instance (in memory per instance while Redis is unreachable); without it each
 * instance counts in memory.
 * Refused requests are limited per address besides (AuthFailureLimiter).
 * The guards are exported, not made global here: AppModule orders the global guards.
 * The store (ThrottlerModule, which @nestjs/throttler registers globally) is re-exported so
 * that a module reading it (health) shows the dependency by importing this one.
 */
@Module({
  imports: [
    // Logins are counted per account (see RATE_LIMIT_POLICIES.login).
    UsersModule,
    MetricsRegistryModule,
    // Async, so the Redis client is made when the app is built, not when the module is declared.
    ThrottlerModule.forRootAsync({
      imports: [MetricsRegistryModule],
      inject: [APP_CONFIG, MetricsRegistry],
      useFactory: async (config: AppConfig, metrics: MetricsRegistry): Promise<ThrottlerModuleOptions> => ({
        throttlers: [{ name: 'default', limit: config.rateLimit.defaultPerMinute, ttl: 60_000 }],
        storage: config.redisUrl
          ? await redisStorage(config.redisUrl, config.redisTimeoutMs, metrics)
          : new MemoryThrottlerStorage(),
      }),
    }),
  ],
  providers: [RateLimitGuard, AuthFailureLimiter, AuthFailureLimitGuard],
  exports: [ThrottlerModule, RateLimitGuard, AuthFailureLimiter, AuthFailureLimitGuard],
})
export class RateLimitModule {}

/**
 * A client that fails fast instead of waiting: no offline queue (a command while disconnected
 * fails at once), short connect and command timeouts, no replay of unanswered commands after a
 * reconnect (they were counted in memory), and reconnect attempts at most a second apart.
 */
async function redisStorage(url: string, timeoutMs: number, metrics: MetricsRegistry): Promise<RedisThrottlerStorage> {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt: number) => Math.min(attempt * 100, 1000),
    lazyConnect: false,
  });
  const storage = new RedisThrottlerStorage(client, {
    ownsClient: true,
    onFallback: () => metrics.rateLimitStoreFallback(),
  });
  // Start with shared limits when Redis is there; start anyway, counting in memory, when it is not.
  await storage.waitUntilReady(timeoutMs);
  return storage;
}
