import { ExecutionContext, Injectable, type Type } from '@nestjs/common';
import { AuthGuard, type IAuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '#src/common/auth/principal.js';
import { ApplicationStrategies } from '../strategies/application-strategies.js';
import { authenticationRefusal } from './authentication-refusal.js';

/**
 * A passport guard over this application's own strategies (not passport's process-wide
 * registry), whose refusals are the service's problems for the credentials it accepts.
 */
export function passportGuard(
  strategies: string | string[],
  accepts: { users: boolean; apiKeys: boolean },
): Type<IAuthGuard> {
  @Injectable()
  class PassportGuard extends AuthGuard(strategies) {
    constructor(private readonly application: ApplicationStrategies) {
      super();
    }

    override getAuthenticateOptions(): ApplicationStrategies['authenticateOptions'] {
      return this.application.authenticateOptions;
    }

    override handleRequest<T = Principal>(
      error: unknown,
      principal: T | false,
      info: unknown,
      context: ExecutionContext,
    ): T {
      if (error) throw error;
      if (principal) return principal;
      throw authenticationRefusal(context.switchToHttp().getRequest<FastifyRequest>(), accepts, info);
    }
  }
  return PassportGuard;
}
