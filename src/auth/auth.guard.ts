import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { API_KEY_PREFIX } from '#src/api-keys/api-key-format.js';
import { ApiKeysService } from '#src/api-keys/api-keys.service.js';
import { AuditService } from '#src/audit/audit.service.js';
import { forbidden, unauthenticated } from '#src/common/auth/auth-errors.js';
import { AUTH_POLICY, AuthPolicy, DEFAULT_AUTH_POLICY } from '#src/common/auth/auth.decorators.js';
import type { Principal } from '#src/common/auth/principal.js';
import { ProblemException } from '#src/common/problem.js';
import { IS_PUBLIC } from '#src/common/public.decorator.js';
import { TokenService } from './token.service.js';

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

type Credential = { kind: 'api_key' | 'jwt'; value: string; looksLikeApiKey: boolean };

/**
 * Authentication on every route unless @Public: an access token, or an API key where the
 * route's policy accepts one; then roles, scopes and a pending password change. Every
 * refusal is audited.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly apiKeys: ApiKeysService,
    private readonly audit: AuditService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const policy = this.reflector.getAllAndOverride<AuthPolicy>(AUTH_POLICY, targets) ?? DEFAULT_AUTH_POLICY;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const route = `${request.method} ${request.routeOptions.url}`;
    try {
      request.principal = await this.authenticate(request, policy);
      return true;
    } catch (error) {
      if (error instanceof ProblemException) {
        const principal = request.principal as Principal | undefined;
        await this.audit.record({
          actorType: principal?.kind ?? 'anonymous',
          actorId: principal ? (principal.kind === 'user' ? principal.userId : principal.apiKeyId) : null,
          action: error.getStatus() === 403 ? 'authz.denied' : 'authn.failed',
          resource: 'route',
          resourceId: route,
          status: 'failure',
          details: { code: error.code },
        });
      }
      throw error;
    }
  }

  private async authenticate(request: FastifyRequest, policy: AuthPolicy): Promise<Principal> {
    const credential = credentialOf(request);
    if (!credential) throw unauthenticated('AUTHENTICATION_REQUIRED', 'This route needs credentials.');
    if (credential.kind === 'api_key') {
      if (!policy.apiKeys) {
        // A stray bearer (say, a refresh token) is a bad access token, not an API key.
        if (!credential.looksLikeApiKey) throw unauthenticated('INVALID_TOKEN', 'The access token is not valid.');
        throw unauthenticated('API_KEY_NOT_ACCEPTED', 'This route needs a signed-in user.');
      }
      const result = await this.apiKeys.authenticate(credential.value);
      if (!result.ok) throw unauthenticated('INVALID_API_KEY', 'The API key is unknown, revoked or expired.');
      request.principal = result.principal;
      const missing = (policy.scopes ?? []).filter((scope) => !result.principal.scopes.includes(scope));
      if (missing.length > 0) {
        throw forbidden('INSUFFICIENT_SCOPE', `The API key lacks the scope ${missing.join(', ')}.`);
      }
      return result.principal;
    }
    if (!policy.users) throw unauthenticated('API_KEY_REQUIRED', 'This route needs an API key.');
    const { principal, mustChangePassword } = await this.tokens.verifyAccessToken(credential.value);
    request.principal = principal;
    if (policy.roles && !policy.roles.includes(principal.role)) {
      throw forbidden('INSUFFICIENT_ROLE', 'This route is for administrators.');
    }
    if (mustChangePassword && !policy.allowPendingPasswordChange) {
      throw forbidden('PASSWORD_CHANGE_REQUIRED', 'Change your password first (POST /api/v1/auth/change-password).');
    }
    return principal;
  }
}

function credentialOf(request: FastifyRequest): Credential | null {
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.length > 0) return { kind: 'api_key', value: apiKey, looksLikeApiKey: true };
  const authorization = request.headers.authorization;
  const match = typeof authorization === 'string' ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
  if (!match) return null;
  // A JWT has three base64url parts; anything else in a bearer header is taken as an API key.
  const value = match[1];
  return { kind: JWT_SHAPE.test(value) ? 'jwt' : 'api_key', value, looksLikeApiKey: value.startsWith(API_KEY_PREFIX) };
}
