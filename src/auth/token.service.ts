import { createHash, createSecretKey, type KeyObject, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { VerifyOptions } from 'jsonwebtoken';
import type { ProblemException } from '#src/common/problem.js';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { unauthenticated } from '#src/common/auth/auth-errors.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { Clock } from '#src/common/clock.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { randomToken } from '#src/crypto/random.js';
import { AUTH_CACHE_MAX_ENTRIES } from '#src/common/auth/auth-cache-limits.js';
import { InvalidatedCache, InvalidationChannel } from '#src/database/invalidation-channel.js';
import type { UserRole } from '#src/users/user.entity.js';
import { UsersService } from '#src/users/users.service.js';

/** The only algorithm accepted: pinned, so `none` and algorithm confusion fail (RFC 8725 §3.1). */
export const JWT_ALGORITHM = 'HS256' as const;
const ACCESS = 'access';
/** Clock difference between instances tolerated on `iat` and on the lifetime, seconds. */
export const JWT_CLOCK_SKEW_SECONDS = 30;

/** The claims of an access token whose signature, issuer, audience and times were checked. */
export interface AccessClaims {
  sub: string;
  sid: string;
  typ: string;
  iat?: number;
  exp?: number;
}

/** How access tokens are verified, for the JWT strategy (passport-jwt) to apply. */
export interface AccessTokenRules {
  /** The HMAC key. */
  readonly key: KeyObject;
  /** The only algorithm accepted: `none` and algorithm confusion fail (RFC 8725 §3.1). */
  readonly algorithms: [typeof JWT_ALGORITHM];
  readonly issuer: string;
  readonly audience: string;
}

/** A failed signature, issuer, audience or time check, as the service answers it. */
export function accessTokenRefusal(error: unknown): ProblemException {
  if ((error as Error | undefined)?.name === 'TokenExpiredError') {
    return unauthenticated('TOKEN_EXPIRED', 'The access token has expired; refresh it.');
  }
  return unauthenticated('INVALID_TOKEN', 'The access token is not valid.');
}

/** What the access check reads of a live session and its account, cached by session id. */
interface LiveSession {
  userId: string;
  username: string;
  role: UserRole;
  mustChangePassword: boolean;
  stepUpAt: Date | null;
  expiresAt: Date;
}

export interface VerifiedAccess {
  principal: UserPrincipal;
  mustChangePassword: boolean;
}

/** Issues and checks access tokens (JWT) and mints opaque refresh tokens. */
@Injectable()
export class TokenService {
  /** Made once: verification runs on every request. */
  readonly accessTokenRules: AccessTokenRules;
  /** Live sessions; a logout, revocation, step-up or account change drops the entry on every instance. */
  private readonly liveSessions: InvalidatedCache<Readonly<LiveSession>>;

  constructor(
    private readonly jwt: JwtService,
    private readonly clock: Clock,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UsersService,
    invalidation: InvalidationChannel,
  ) {
    this.liveSessions = invalidation.cache({
      maxEntries: AUTH_CACHE_MAX_ENTRIES,
      ttlMs: config.authCacheTtlMs,
      now: () => clock.now().getTime(),
    });
    this.accessTokenRules = {
      // A KeyObject, as for signing (see AuthModule): given a string, jsonwebtoken first tries
      // to parse it as a public key on every verification.
      key: createSecretKey(Buffer.from(config.jwt.secret, 'utf8')),
      algorithms: [JWT_ALGORITHM],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
    };
  }

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
   * The rest of an access token's check, once passport-jwt has verified its signature,
   * algorithm, issuer, audience, expiry and not-before (with accessTokenRules): the type,
   * a required expiry, then that the session is live and the user active — so logout,
   * revocation and disabling take effect at once. One read (the session joined with the users
   * module's relation of active accounts, UsersService.activeAccounts), then from memory until
   * the session or the account changes (InvalidationChannel).
   */
  async verifyAccessClaims(claims: AccessClaims): Promise<VerifiedAccess> {
    if (
      claims.typ !== ACCESS ||
      typeof claims.sub !== 'string' ||
      typeof claims.sid !== 'string' ||
      typeof claims.exp !== 'number'
    ) {
      throw invalidToken();
    }
    const now = this.clock.now();
    if (!hasSaneLifetime(claims, Math.floor(now.getTime() / 1000), this.config.jwt.accessTtlSeconds)) {
      throw invalidToken();
    }
    const session = await this.liveSession(claims.sid, claims.sub, now);
    if (!session) throw unauthenticated('INVALID_TOKEN', 'The session has ended.');
    return {
      principal: {
        kind: 'user',
        userId: claims.sub,
        username: session.username,
        role: session.role,
        sessionId: claims.sid,
        stepUpAt: session.stepUpAt,
      },
      mustChangePassword: session.mustChangePassword,
    };
  }

  /** The session if it is live and its account active: from memory, else in one read. */
  private async liveSession(sessionId: string, userId: string, now: Date): Promise<Readonly<LiveSession> | undefined> {
    const cached = this.liveSessions.get(sessionId);
    // Expiry is a time, not a change: judged on every request.
    if (cached?.userId === userId && cached.expiresAt > now) return cached;
    const ticket = this.liveSessions.ticket();
    const [row] = await this.dataSource.query<
      {
        username: string;
        role: UserRole;
        must_change_password: boolean;
        step_up_at: Date | null;
        expires_at: Date;
      }[]
    >(
      `SELECT u.username, u.role, u.must_change_password, s.step_up_at, s.expires_at
         FROM sessions s JOIN ${this.users.activeAccounts} u ON u.id = s.user_id
        WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3`,
      [sessionId, userId, now],
    );
    if (!row) return undefined;
    // Frozen: one entry answers many requests, none of which may change it for the next.
    const session: LiveSession = Object.freeze({
      userId,
      username: row.username,
      role: row.role,
      mustChangePassword: row.must_change_password,
      stepUpAt: row.step_up_at,
      expiresAt: row.expires_at,
    });
    this.liveSessions.set(sessionId, session, [`session:${sessionId}`, `user:${userId}`], ticket);
    return session;
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

/**
 * Gives jsonwebtoken options a `clockTimestamp` read from the clock at each verification
 * (jsonwebtoken copies its options on every call, and so reads the getter then): expiry
 * and not-before are judged on the service clock.
 */
export function withServiceClock<T extends VerifyOptions>(options: T, clock: Clock): T {
  return Object.defineProperty(options, 'clockTimestamp', {
    enumerable: true,
    get: () => Math.floor(clock.now().getTime() / 1000),
  });
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
