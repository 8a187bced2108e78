import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  SetMetadata,
  UseGuards,
  type CanActivate,
  type Type,
} from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiSecurity,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { ApiKeyScope } from '#src/api-keys/api-key.entity.js';
import { StepUpGuard } from '#src/auth/step-up.guard.js';
import { ApiKeyGuard } from '#src/auth/guards/api-key.guard.js';
import { JwtAuthGuard } from '#src/auth/guards/jwt-auth.guard.js';
import { JwtOrApiKeyGuard } from '#src/auth/guards/jwt-or-api-key.guard.js';
import { IS_PUBLIC } from '#src/common/public.decorator.js';
import { SECURITY } from '#src/openapi/openapi.js';
import type { UserRole } from '#src/users/user.entity.js';
import type { ClientPrincipal, Principal, UserPrincipal } from './principal.js';

/** The passport guard that authenticates a route (see AuthenticationGuard). */
export const AUTH_GUARD = 'authGuard';
/** A user must hold one of these roles (RolesGuard). */
export const ROLES = 'roles';
/** An API key must hold every one of these scopes (ScopesGuard). */
export const SCOPES = 'scopes';
/** Reachable while the user still has to change the password (RolesGuard). */
export const ALLOW_PENDING_PASSWORD_CHANGE = 'allowPendingPasswordChange';
/** A public route that checks credentials of its own (AuthFailureLimitGuard). */
export const VERIFIES_CREDENTIALS = 'verifiesCredentials';

export const Roles = (...roles: UserRole[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES, roles);
export const Scopes = (...scopes: ApiKeyScope[]): MethodDecorator & ClassDecorator => SetMetadata(SCOPES, scopes);

/**
 * On a @Public route that checks credentials itself (a password, a refresh token, the
 * metrics token): an address past its limit of refused requests gets 429 before it runs.
 */
export const VerifiesCredentials = (): MethodDecorator & ClassDecorator => SetMetadata(VERIFIES_CREDENTIALS, true);

interface Access {
  guard: Type<CanActivate>;
  roles?: readonly UserRole[];
  scopes?: readonly ApiKeyScope[];
  allowPendingPasswordChange?: boolean;
}

/**
 * One line per route: the guard that authenticates it, the roles and scopes the other
 * guards check, and the Swagger security entries. Every key is set, so a method's
 * decorator replaces its class's whole rule.
 */
const access = ({ guard, roles = [], scopes = [], allowPendingPasswordChange = false }: Access) => {
  const users = guard !== ApiKeyGuard;
  const apiKeys = guard !== JwtAuthGuard;
  return applyDecorators(
    SetMetadata(AUTH_GUARD, guard),
    Roles(...roles),
    Scopes(...scopes),
    SetMetadata(ALLOW_PENDING_PASSWORD_CHANGE, allowPendingPasswordChange),
    ...(users ? [ApiBearerAuth(SECURITY.jwt)] : []),
    ...(apiKeys ? [ApiSecurity(SECURITY.apiKeyHeader), ApiBearerAuth(SECURITY.apiKeyBearer)] : []),
    ApiUnauthorizedResponse({
      description: `Missing, invalid, expired or revoked credentials: ${[
        'AUTHENTICATION_REQUIRED',
        ...(users ? ['INVALID_TOKEN', 'TOKEN_EXPIRED'] : ['API_KEY_REQUIRED']),
        ...(apiKeys ? ['INVALID_API_KEY'] : ['API_KEY_NOT_ACCEPTED']),
      ].join(', ')}`,
    }),
    ApiForbiddenResponse({
      description: `Authenticated, but not allowed: ${
        [
          ...(roles.length > 0 ? ['INSUFFICIENT_ROLE'] : []),
          ...(scopes.length > 0 ? ['INSUFFICIENT_SCOPE'] : []),
          ...(users && !allowPendingPasswordChange ? ['PASSWORD_CHANGE_REQUIRED'] : []),
        ].join(', ') || 'no refusal of its own'
      }`,
    }),
    ApiTooManyRequestsResponse({
      description: 'RATE_LIMITED: too many requests, or too many refused ones from this address (Retry-After)',
    }),
  );
};

/** A signed-in person (JWT access token). */
export const UserAuth = (options: { allowPendingPasswordChange?: boolean } = {}): MethodDecorator & ClassDecorator =>
  access({ guard: JwtAuthGuard, ...options });

/** An administrator (JWT access token with role admin). */
export const AdminAuth = (): MethodDecorator & ClassDecorator => access({ guard: JwtAuthGuard, roles: ['admin'] });

/** An enterprise client whose API key holds every listed scope. */
export const ApiKeyAuth = (...scopes: ApiKeyScope[]): MethodDecorator & ClassDecorator =>
  access({ guard: ApiKeyGuard, scopes });

/** Either a signed-in person or an API key with the listed scopes. */
export const UserOrApiKeyAuth = (...scopes: ApiKeyScope[]): MethodDecorator & ClassDecorator =>
  access({ guard: JwtOrApiKeyGuard, scopes });

/** Either an administrator or an API key with the listed scopes. */
export const AdminOrApiKeyAuth = (...scopes: ApiKeyScope[]): MethodDecorator & ClassDecorator =>
  access({ guard: JwtOrApiKeyGuard, roles: ['admin'], scopes });

/** A route's access rule as the guards read it. */
export interface RouteAccess {
  isPublic: boolean;
  verifiesCredentials: boolean;
  /** Unset: the route declares no rule, and is refused. */
  guard?: Type<CanActivate>;
  roles: readonly UserRole[];
  scopes: readonly ApiKeyScope[];
  allowPendingPasswordChange: boolean;
}

const accessByRoute = new WeakMap<object, WeakMap<object, RouteAccess>>();

/**
 * The rule of the route being served, read from its metadata once per controller method
 * (method first, then class): the guards that consult it run on every request.
 */
export function routeAccess(reflector: Reflector, context: ExecutionContext): RouteAccess {
  const handler = context.getHandler();
  const controller = context.getClass();
  let byHandler = accessByRoute.get(controller);
  if (!byHandler) accessByRoute.set(controller, (byHandler = new WeakMap()));
  let rule = byHandler.get(handler);
  if (!rule) {
    const targets = [handler, controller];
    const read = <T>(key: string): T | undefined => reflector.getAllAndOverride<T>(key, targets);
    rule = {
      isPublic: read<boolean>(IS_PUBLIC) === true,
      verifiesCredentials: read<boolean>(VERIFIES_CREDENTIALS) === true,
      guard: read<Type<CanActivate>>(AUTH_GUARD),
      roles: read<UserRole[]>(ROLES) ?? [],
      scopes: read<ApiKeyScope[]>(SCOPES) ?? [],
      allowPendingPasswordChange: read<boolean>(ALLOW_PENDING_PASSWORD_CHANGE) === true,
    };
    byHandler.set(handler, rule);
  }
  return rule;
}

/**
 * The route reveals or replaces a secret: besides the route's own auth decorator, the
 * session must have re-authenticated (POST auth/step-up) within STEP_UP_TTL; else
 * 403 STEP_UP_REQUIRED. For people's routes: an API key never steps up.
 */
export const StepUp = (): MethodDecorator =>
  applyDecorators(
    UseGuards(StepUpGuard),
    ApiForbiddenResponse({
      description:
        'STEP_UP_REQUIRED: this session has not confirmed the password (and MFA code) with ' +
        '`POST /api/v1/auth/step-up` within STEP_UP_TTL (default 300 s); ' +
        'other refusals as on every authenticated route (role, pending password change)',
    }),
  );

const principalOf = (ctx: ExecutionContext): Principal | undefined =>
  ctx.switchToHttp().getRequest<FastifyRequest>().principal;

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext) => principalOf(ctx));

export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): UserPrincipal => {
  const principal = principalOf(ctx);
  if (principal?.kind !== 'user') throw new Error('@CurrentUser() on a route that does not require a user');
  return principal;
});

export const CurrentClient = createParamDecorator((_: unknown, ctx: ExecutionContext): ClientPrincipal => {
  const principal = principalOf(ctx);
  if (principal?.kind !== 'api_key') throw new Error('@CurrentClient() on a route that does not require an API key');
  return principal;
});
