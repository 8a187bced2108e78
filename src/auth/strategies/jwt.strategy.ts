import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import type { VerifyOptions } from 'jsonwebtoken';
import { type JwtFromRequestFunction, Strategy } from 'passport-jwt';
import type { AuthInfo, UserPrincipal } from '#src/common/auth/principal.js';
import { Clock } from '#src/common/clock.js';
import { AccessClaims, TokenService, withServiceClock } from '../token.service.js';
import { passedToOwnStrategy } from './application-strategy.js';
import { presentedCredential } from './credentials.js';

export const JWT_STRATEGY = 'jwt';

/** The bearer token when it is shaped like a JWT and no X-API-Key is sent (an API key wins then). */
const accessTokenOf = (request: FastifyRequest): string | null => {
  const credential = presentedCredential(request);
  return credential?.kind === 'jwt' ? credential.value : null;
};

/**
 * Access tokens (passport-jwt): signature with the service's HMAC key, the one algorithm
 * HS256 (so `none` and algorithm confusion fail), issuer, audience, expiry and not-before
 * on the service clock; then TokenService's rules for the claims and the live session.
 * Failures are passport failures; the guards answer them (INVALID_TOKEN, TOKEN_EXPIRED).
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(
    private readonly tokens: TokenService,
    clock: Clock,
  ) {
    const { key, algorithms, issuer, audience } = tokens.accessTokenRules;
    super({
      jwtFromRequest: accessTokenOf as JwtFromRequestFunction,
      // jsonwebtoken takes a KeyObject (passport-jwt's types say string or Buffer).
      secretOrKey: key as unknown as Buffer,
      algorithms: [...algorithms],
      issuer,
      audience,
      ignoreExpiration: false,
    });
    // passport-jwt keeps the jsonwebtoken options it was built with: judge expiry and
    // not-before at the service clock's time of each request, not the process's.
    const verifyOptions = (this as unknown as { _verifOpts?: VerifyOptions })._verifOpts;
    if (verifyOptions?.issuer !== issuer) throw new Error('passport-jwt: its verify options were not found');
    withServiceClock(verifyOptions, clock);
  }

  /** See passedToOwnStrategy: another application's request goes to that application's strategy. */
  override authenticate(...[request, options]: Parameters<Strategy['authenticate']>): void {
    if (!passedToOwnStrategy(this, JWT_STRATEGY, request, options)) super.authenticate(request, options);
  }

  /** Claims checked by passport-jwt; the rest (type, session) by TokenService, in its one read. */
  async validate(claims: AccessClaims): Promise<[UserPrincipal, AuthInfo]> {
    const { principal, mustChangePassword } = await this.tokens.verifyAccessClaims(claims);
    return [principal, { mustChangePassword }];
  }
}
