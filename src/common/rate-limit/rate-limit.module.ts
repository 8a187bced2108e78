import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { ThrottlerModule, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { Redis } from 'ioredis';
import type { AppConfig } from '#src/config/config.types.js';
import { UsersModule } from '#src/users/users.module.js';
import { AuthFailureLimitGuard } from './auth-failure-limit.guard.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { MemoryThrottlerStorage } from './memory-throttler.storage.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { RedisThrottlerStorage } from './redis-throttler.storage.js';

/**
 * Rate limits on @nestjs/throttler: one default limit per caller per minute, stricter
 * named policies on sensitive routes. With REDIS_URL the counts live in Redis, shared by
 * every instance; without it each instance counts in memory.
 * Refused requests are limited per address besides (AuthFailureLimiter).
 * The guards are exported, not made global here: AppModule orders the global guards.
 */
@Module({})
export class RateLimitModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: RateLimitModule,
      // The limiter of refused requests serves the auth guards and the exception filter.
      global: true,
      imports: [
        // Logins are counted per account (see RATE_LIMIT_POLICIES.login).
        UsersModule,
        // Async, so the Redis client is made when the app is built, not when the module is declared.
        ThrottlerModule.forRootAsync({
          useFactory: (): ThrottlerModuleOptions => ({
            throttlers: [{ name: 'default', limit: config.rateLimit.defaultPerMinute, ttl: 60_000 }],
            storage: config.redisUrl ? redisStorage(config.redisUrl) : new MemoryThrottlerStorage(),
          }),
        }),
      ],
      providers: [RateLimitGuard, AuthFailureLimiter, AuthFailureLimitGuard],
      exports: [RateLimitGuard, AuthFailureLimiter, AuthFailureLimitGuard],
    };
  }
}

function redisStorage(url: string): RedisThrottlerStorage {
  const client = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
  // Without a listener ioredis prints connection errors to the console itself.
  const logger = new Logger('RateLimit');
  client.on('error', (error: Error) => logger.warn(`Redis: ${error.message}`));
  return new RedisThrottlerStorage(client, { ownsClient: true });
}
