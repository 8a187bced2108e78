import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { ApiKeyScope } from '#src/api-keys/api-key.entity.js';
import { StepUpGuard } from '#src/auth/step-up.guard.js';
import { SECURITY } from '#src/openapi/openapi.js';
import type { UserRole } from '#src/users/user.entity.js';
import type { ClientPrincipal, Principal, UserPrincipal } from './principal.js';

export const AUTH_POLICY = 'authPolicy';

/** Who may call a route. Routes without a policy (and not @Public) take users only. */
export interface AuthPolicy {
  users: boolean;
  apiKeys: boolean;
  /** A user must hold one of these roles. */
  roles?: readonly UserRole[];
  /** An API key must hold every one of these scopes. */
  scopes?: readonly ApiKeyScope[];
  /** Reachable while the user still has to change the password. */
  allowPendingPasswordChange?: boolean;
}

export const DEFAULT_AUTH_POLICY: AuthPolicy = { users: true, apiKeys: false };

const documented = (policy: AuthPolicy): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(AUTH_POLICY, policy),
    ...(policy.users ? [ApiBearerAuth(SECURITY.jwt)] : []),
    ...(policy.apiKeys ? [ApiSecurity(SECURITY.apiKeyHeader), ApiBearerAuth(SECURITY.apiKeyBearer)] : []),
    ApiUnauthorizedResponse({ description: 'Missing, invalid, expired or revoked credentials' }),
    ApiForbiddenResponse({ description: 'Authenticated, but not allowed (role, scope or pending password change)' }),
  );

/** A signed-in person (JWT access token). */
export const UserAuth = (options: { allowPendingPasswordChange?: boolean } = {}): MethodDecorator & ClassDecorator =>
  documented({ users: true, apiKeys: false, ...options });

/** An administrator (JWT access token with role admin). */
export const AdminAuth = (): MethodDecorator & ClassDecorator =>
  documented({ users: true, apiKeys: false, roles: ['admin'] });

/** An enterprise client whose API key holds every listed scope. */
export const ApiKeyAuth = (...scopes: ApiKeyScope[]): MethodDecorator & ClassDecorator =>
  documented({ users: false, apiKeys: true, scopes });

/** Either a signed-in person or an API key with the listed scopes. */
export const UserOrApiKeyAuth = (...scopes: ApiKeyScope[]): MethodDecorator & ClassDecorator =>
  documented({ users: true, apiKeys: true, scopes });

/** Either an administrator or an API key with the listed scopes. */
export const AdminOrApiKeyAuth = (...scopes: ApiKeyScope[]): MethodDecorator & ClassDecorator =>
  documented({ users: true, apiKeys: true, roles: ['admin'], scopes });

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
