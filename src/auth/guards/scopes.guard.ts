import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { forbidden } from '#src/common/auth/auth-errors.js';
import { routeAccess } from '#src/common/auth/auth.decorators.js';

/** An API key must hold every scope the route lists (@Scopes, set by @ApiKeyAuth…). Users have no scopes. */
@Injectable()
export class ScopesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const principal = context.switchToHttp().getRequest<FastifyRequest>().principal;
    if (principal?.kind !== 'api_key') return true;
    const missing = routeAccess(this.reflector, context).scopes.filter((scope) => !principal.scopes.includes(scope));
    if (missing.length > 0) throw forbidden('INSUFFICIENT_SCOPE', `The API key lacks the scope ${missing.join(', ')}.`);
    return true;
  }
}
