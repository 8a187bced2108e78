import { CanActivate, ExecutionContext, Injectable, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { forbidden } from '#src/common/auth/auth-errors.js';
import { routeAccess } from '#src/common/auth/auth.decorators.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { JwtOrApiKeyGuard } from './jwt-or-api-key.guard.js';

/**
 * Authentication on by default (global): a route is @Public, or names its guard through
 * an auth decorator (@UserAuth, @ApiKeyAuth…), which runs here — before the roles, scopes
 * and rate-limit guards, which read the principal it sets. A route with neither is
 * refused, whatever the credentials: a forgotten decorator closes a route, never opens it.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  private readonly guards: ReadonlyMap<Type<CanActivate>, CanActivate>;

  constructor(
    private readonly reflector: Reflector,
    jwt: JwtAuthGuard,
    apiKey: ApiKeyGuard,
    either: JwtOrApiKeyGuard,
  ) {
    this.guards = new Map<Type<CanActivate>, CanActivate>([
      [JwtAuthGuard, jwt],
      [ApiKeyGuard, apiKey],
      [JwtOrApiKeyGuard, either],
    ]);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const access = routeAccess(this.reflector, context);
    if (access.isPublic) return true;
    const guard = access.guard && this.guards.get(access.guard);
    if (!guard) throw forbidden('ACCESS_RULE_MISSING', 'This route declares no access rule, so it is closed.');
    return guard.canActivate(context) as Promise<boolean>;
  }
}
