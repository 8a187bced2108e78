import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '#src/common/auth/principal.js';
import { ApplicationStrategies } from '../strategies/application-strategies.js';
import { authenticationRefusal } from './authentication-refusal.js';

/**
 * Either credential: an API key or a JWT access token, whichever the request carries (the
 * API-key strategy is tried first: it declines a request without a key before any look-up).
 */
@Injectable()
export class JwtOrApiKeyGuard extends AuthGuard(['api-key', 'jwt']) {
  constructor(private readonly strategies: ApplicationStrategies) {
    super();
  }

  override getAuthenticateOptions(): ApplicationStrategies['authenticateOptions'] {
    return this.strategies.authenticateOptions;
  }

  override handleRequest<T = Principal>(
    error: unknown,
    principal: T | false,
    info: unknown,
    context: ExecutionContext,
  ): T {
    if (error) throw error;
    if (principal) return principal;
    throw authenticationRefusal(
      context.switchToHttp().getRequest<FastifyRequest>(),
      { users: true, apiKeys: true },
      info,
    );
  }
}
