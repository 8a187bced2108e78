import { CanActivate, ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { routeAccess } from '#src/common/auth/auth.decorators.js';
import { ProblemException } from '#src/common/problem.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';

/** The 429 for an address past its limit of refused requests; audited in aggregate. */
export class AuthFailuresLimitedException extends ProblemException {
  constructor(readonly retryAfter: number) {
    super(
      HttpStatus.TOO_MANY_REQUESTS,
      'RATE_LIMITED',
      `Too many refused requests from this address; retry after ${retryAfter} seconds`,
      { retry_after: retryAfter },
    );
  }
}

/**
 * First of the global guards: an address past its limit of refused requests gets 429 with
 * Retry-After on every route that authenticates (and @Public ones that check credentials
 * themselves, such as login), before any credential is looked at. No I/O.
 */
@Injectable()
export class AuthFailureLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: AuthFailureLimiter,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const access = routeAccess(this.reflector, context);
    if (access.isPublic && !access.verifiesCredentials) return true;
    const http = context.switchToHttp();
    const retryAfter = this.limiter.retryAfter(http.getRequest<FastifyRequest>());
    if (retryAfter === 0) return true;
    void http.getResponse<FastifyReply>().header('retry-after', retryAfter);
    throw new AuthFailuresLimitedException(retryAfter);
  }
}
