import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { unauthenticated } from '#src/common/auth/auth-errors.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { Clock } from '#src/common/clock.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { randomToken } from '#src/crypto/random.js';
import type { UserRole } from '#src/users/user.entity.js';

/** The only algorithm accepted: pinned, so `none` and algorithm confusion fail (RFC 8725 §3.1). */
export const JWT_ALGORITHM = 'HS256';
const ACCESS = 'access';
/** Clock difference between instances tolerated on `iat` and on the lifetime, seconds. */
export const JWT_CLOCK_SKEW_SECONDS = 30;

interface AccessClaims {
  sub: string;
  sid: string;
  typ: string;
  iat?: number;
  exp?: number;
}

export interface VerifiedAccess {
  principal: UserPrincipal;
  mustChangePassword: boolean;
}

/** Issues and checks access tokens (JWT) and mints opaque refresh tokens. */
@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly clock: Clock,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** A short-lived access token bound to one session row. */
  signAccessToken(userId: string, sessionId: string): { token: string; expiresIn: number } {
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const expiresIn = this.config.jwt.accessTtlSeconds;
    const claims = { sub: userId, sid: sessionId, typ: ACCESS, iat, nbf: iat, exp: iat + expiresIn, jti: randomUUID() };
    return {
      token: this.jwt.sign(claims, {
        algorithm: JWT_ALGORITHM,
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
      }),
      expiresIn,
    };
  }

  /**
   * Checks signature, algorithm, issuer, audience, expiry, lifetime and type, then that the
   * session is live and the user active — so logout, revocation and disabling take effect at
   * once. The same read answers when the session last stepped up.
   */
  async verifyAccessToken(token: string): Promise<VerifiedAccess> {
    const now = this.clock.now();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    let claims: AccessClaims;
    try {
      claims = this.jwt.verify<AccessClaims & object>(token, {
        algorithms: [JWT_ALGORITHM],
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
        clockTimestamp: nowSeconds,
      });
    } catch (error) {
      if ((error as Error).name === 'TokenExpiredError') {
        throw unauthenticated('TOKEN_EXPIRED', 'The access token has expired; refresh it.');
      }
      throw invalidToken();
    }
    if (claims.typ !== ACCESS || typeof claims.sub !== 'string' || typeof claims.sid !== 'string') {
      throw invalidToken();
    }
    if (!hasSaneLifetime(claims, nowSeconds, this.config.jwt.accessTtlSeconds)) throw invalidToken();
    const [row] = await this.dataSource.query<
      { username: string; role: UserRole; must_change_password: boolean; step_up_at: Date | null }[]
    >(
      `SELECT u.username, u.role, u.must_change_password, s.step_up_at
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3 AND u.is_active`,
      [claims.sid, claims.sub, now],
    );
    if (!row) throw unauthenticated('INVALID_TOKEN', 'The session has ended.');
    return {
      principal: {
        kind: 'user',
        userId: claims.sub,
        username: row.username,
        role: row.role,
        sessionId: claims.sid,
        stepUpAt: row.step_up_at,
      },
      mustChangePassword: row.must_change_password,
    };
  }

  /** An opaque refresh token and the hash that is stored in its place. */
  newRefreshToken(): { token: string; hash: string } {
    const token = `rt_${randomToken(32)}`;
    return { token, hash: hashRefreshToken(token) };
  }
}

const invalidToken = () => unauthenticated('INVALID_TOKEN', 'The access token is not valid.');

/**
 * jsonwebtoken checks `exp` only when present and never the lifetime. Every token this
 * service signs carries `iat` and `exp` and lives the access TTL; anything else (no expiry,
 * a longer life, issued in the future — each beyond the clock skew) was not made here.
 */
export function hasSaneLifetime(
  claims: { iat?: unknown; exp?: unknown },
  nowSeconds: number,
  accessTtlSeconds: number,
): boolean {
  const { iat, exp } = claims;
  if (typeof iat !== 'number' || typeof exp !== 'number' || !Number.isFinite(iat) || !Number.isFinite(exp)) {
    return false;
  }
  return iat <= nowSeconds + JWT_CLOCK_SKEW_SECONDS && exp - iat <= accessTtlSeconds + JWT_CLOCK_SKEW_SECONDS;
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
