import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { ApplicationStrategies } from '../strategies/application-strategies.js';
import { authenticationRefusal } from './authentication-refusal.js';

/** A signed-in person: a JWT access token (the `jwt` strategy), refusals as the service's problems. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly strategies: ApplicationStrategies) {
    super();
  }

  override getAuthenticateOptions(): ApplicationStrategies['authenticateOptions'] {
    return this.strategies.authenticateOptions;
  }

  override handleRequest<T = UserPrincipal>(
    error: unknown,
    principal: T | false,
    info: unknown,
    context: ExecutionContext,
  ): T {
    if (error) throw error;
    if (principal) return principal;
    throw authenticationRefusal(
      context.switchToHttp().getRequest<FastifyRequest>(),
      { users: true, apiKeys: false },
      info,
    );
  }
}
