import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { ApiKeysService } from '#src/api-keys/api-keys.service.js';
import { unauthenticated } from '#src/common/auth/auth-errors.js';
import type { ClientPrincipal } from '#src/common/auth/principal.js';
import { passedToOwnStrategy } from './application-strategy.js';
import { presentedCredential } from './credentials.js';

export const API_KEY_STRATEGY = 'api-key';

/**
 * Enterprise clients' API keys (passport-custom), as `X-API-Key` or `Authorization: Bearer
 * otpk_…`: looked up by hash, refused when unknown, revoked or expired (ApiKeysService
 * caches a live key until the database announces a change, so revocation is still immediate).
 * Scopes are the ScopesGuard's. A request without an
 * API key is a passport failure, left to the next strategy or to the guard's answer.
 */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, API_KEY_STRATEGY) {
  constructor(private readonly apiKeys: ApiKeysService) {
    super();
  }

  /** See passedToOwnStrategy: another application's request goes to that application's strategy. */
  override authenticate(...[request, options]: Parameters<InstanceType<typeof Strategy>['authenticate']>): void {
    if (!passedToOwnStrategy(this, API_KEY_STRATEGY, request, options)) super.authenticate(request, options);
  }

  async validate(request: FastifyRequest): Promise<ClientPrincipal | false> {
    const credential = presentedCredential(request);
    if (credential?.kind !== 'api_key') return false;
    const result = await this.apiKeys.authenticate(credential.value);
    if (!result.ok) throw unauthenticated('INVALID_API_KEY', 'The API key is unknown, revoked or expired.');
    return result.principal;
  }
}
