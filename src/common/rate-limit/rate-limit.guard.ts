import { type ExecutionContext, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemException } from '#src/common/problem.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { callerTracker } from './rate-limit.trackers.js';

/**
 * Rate limits, run after authentication: by default per caller (user, API key, or the
 * address when anonymous); @RateLimit routes use their policy. Refusals are 429 problems
 * with Retry-After.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(options, storage, reflector);
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    return callerTracker(request as unknown as FastifyRequest);
  }

  /** RATE_LIMIT_MULTIPLIER scales every limit (load and functional tests); 1 in production. */
  protected override handleRequest(request: ThrottlerRequest): Promise<boolean> {
    return super.handleRequest({ ...request, limit: request.limit * this.config.rateLimit.multiplier });
  }

  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const retryAfter = Math.max(1, Math.ceil(detail.timeToBlockExpire));
    // The guard sets it too; set it here so header and body always agree.
    void context.switchToHttp().getResponse<FastifyReply>().header('retry-after', retryAfter);
    throw new ProblemException(
      HttpStatus.TOO_MANY_REQUESTS,
      'RATE_LIMITED',
      `Too many requests; retry after ${retryAfter} seconds`,
      { retry_after: retryAfter },
    );
  }
}
