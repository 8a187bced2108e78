import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import type { ClientPrincipal } from '#src/common/auth/principal.js';
import { ApplicationStrategies } from '../strategies/application-strategies.js';
import { authenticationRefusal } from './authentication-refusal.js';

/** An enterprise client: an API key (the `api-key` strategy), refusals as the service's problems. */
@Injectable()
export class ApiKeyGuard extends AuthGuard('api-key') {
  constructor(private readonly strategies: ApplicationStrategies) {
    super();
  }

  override getAuthenticateOptions(): ApplicationStrategies['authenticateOptions'] {
    return this.strategies.authenticateOptions;
  }

  override handleRequest<T = ClientPrincipal>(
    error: unknown,
    principal: T | false,
    info: unknown,
    context: ExecutionContext,
  ): T {
    if (error) throw error;
    if (principal) return principal;
    throw authenticationRefusal(
      context.switchToHttp().getRequest<FastifyRequest>(),
      { users: false, apiKeys: true },
      info,
    );
  }
}
