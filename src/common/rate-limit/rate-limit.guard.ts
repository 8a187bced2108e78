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
import { UsersService } from '#src/users/users.service.js';
import {
  RATE_LIMIT_POLICIES,
  RATE_LIMIT_POLICY,
  type RateLimitPolicy,
  type RateLimitPolicyDefinition,
} from './rate-limit.policies.js';
import { callerTracker, loginName } from './rate-limit.trackers.js';

/** Longer names are no account's (usernames and e-mail addresses are shorter): not looked up. */
const MAX_LOGIN_NAME = 320;

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
    private readonly users: UsersService,
  ) {
    super(options, storage, reflector);
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    return callerTracker(request as unknown as FastifyRequest);
  }

  /** RATE_LIMIT_MULTIPLIER scales every limit (load and functional tests); 1 in production. */
  protected override handleRequest(request: ThrottlerRequest): Promise<boolean> {
    const limit = request.limit * this.config.rateLimit.multiplier;
    const policy = this.reflector.getAllAndOverride<RateLimitPolicy | undefined>(RATE_LIMIT_POLICY, [
      request.context.getHandler(),
      request.context.getClass(),
    ]);
    const definition: RateLimitPolicyDefinition | undefined = policy && RATE_LIMIT_POLICIES[policy];
    const { getTracker } = request;
    return super.handleRequest({
      ...request,
      limit,
      getTracker: definition?.byAccount ? (req, context) => this.byAccount(req, context, getTracker) : getTracker,
    });
  }

  /**
   * A login counted against the account it names, by username or e-mail alike; an unknown
   * name against itself. The look-up is made for every login, whether the account exists
   * or not, and the answer is the same either way: neither tells which it was.
   */
  private async byAccount(
    req: Record<string, unknown>,
    context: ExecutionContext,
    byName: ThrottlerRequest['getTracker'],
  ): Promise<string> {
    const name = loginName(req as unknown as FastifyRequest);
    const id = name.length > 0 && name.length <= MAX_LOGIN_NAME ? await this.users.idForLogin(name) : null;
    return id ? `account:${id}` : byName(req, context);
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
