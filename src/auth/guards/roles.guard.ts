import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { forbidden } from '#src/common/auth/auth-errors.js';
import { routeAccess } from '#src/common/auth/auth.decorators.js';

/**
 * A signed-in user's role (@Roles, set by @AdminAuth…), then a pending password change:
 * until it is done only routes that allow it (@UserAuth({ allowPendingPasswordChange })).
 * API keys have no role: their scopes are the ScopesGuard's.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const principal = request.principal;
    if (principal?.kind !== 'user') return true;
    const access = routeAccess(this.reflector, context);
    if (access.roles.length > 0 && !access.roles.includes(principal.role)) {
      throw forbidden('INSUFFICIENT_ROLE', 'This route is for administrators.');
    }
    if (request.authInfo?.mustChangePassword && !access.allowPendingPasswordChange) {
      throw forbidden('PASSWORD_CHANGE_REQUIRED', 'Change your password first (POST /api/v1/auth/change-password).');
    }
    return true;
  }
}
