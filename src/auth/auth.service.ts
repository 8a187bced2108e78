import { randomUUID } from 'node:crypto';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull, MoreThan } from 'typeorm';
import { AuditService } from '#src/audit/audit.service.js';
import { alreadyAudited, unauthenticated } from '#src/common/auth/auth-errors.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { Clock } from '#src/common/clock.js';
import { ProblemException } from '#src/common/problem.js';
import { currentRequestContext } from '#src/common/request-context.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import { MetricsRegistry } from '#src/metrics/metrics-registry.js';
import type { AppConfig } from '#src/config/config.types.js';
import { dummyPasswordHash, verifyPassword } from '#src/users/password-hasher.js';
import { UsersService, UserWithSecrets } from '#src/users/users.service.js';
import { ChangePasswordDto, LoginDto, LoginResponseDto, SessionResponseDto, TokenResponseDto } from './dto/auth.dto.js';
import { MfaService } from './mfa.service.js';
import { Session } from './session.entity.js';
import { hashRefreshToken, TokenService } from './token.service.js';

// Each refusal is audited as auth.login (with the reason) where it happens.
const INVALID_CREDENTIALS = (): ProblemException =>
  alreadyAudited(
    unauthenticated('INVALID_CREDENTIALS', 'The username or password is wrong, or the account is locked or disabled.'),
  );
const INVALID_REFRESH = (): ProblemException =>
  unauthenticated('INVALID_REFRESH_TOKEN', 'The refresh token is not valid; sign in again.');

/** Sign-in, token refresh with rotation and reuse detection, sessions and password change. */
@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokenService,
    private readonly mfa: MfaService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsRegistry,
  ) {}

  /**
   * Unknown user, wrong password, locked or disabled account all get the same answer after
   * the same argon2 work, so neither the answer nor its timing tells which it was.
   */
  async login(dto: LoginDto): Promise<LoginResponseDto> {
    const user = await this.users.findForLogin(dto.username.trim());
    const passwordOk = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), dto.password);
    if (!user) return this.refuse(null, 'unknown_user', dto.username);
    const locked = user.lockedUntil !== null && user.lockedUntil > this.clock.now();
    if (locked) return this.refuse(user, 'locked');
    if (!user.isActive) return this.refuse(user, 'disabled');
    if (!passwordOk) return this.refuseAndCount(user, 'bad_password');
    if (user.mfaEnabled) {
      if (!dto.mfa_code) {
        await this.recordLogin(this.dataSource.manager, user.id, 'failure', { reason: 'mfa_required' });
        return { mfa_required: true };
      }
      if (!(await this.mfa.checkCode(user, dto.mfa_code))) return this.refuseAndCount(user, 'bad_mfa_code');
    }
    const tokens = await this.dataSource.transaction(async (manager) => {
      await this.users.recordSuccessfulLogin(user.id, manager);
      const issued = await this.startSession(manager, user.id, randomUUID(), this.absoluteExpiry());
      await this.recordLogin(manager, user.id, 'success', { session_id: issued.sessionId, mfa: user.mfaEnabled });
      return issued.tokens;
    });
    return {
      mfa_required: false,
      ...tokens,
      user: { id: user.id, username: user.username, role: user.role, must_change_password: user.mustChangePassword },
    };
  }

  /**
   * Rotates the refresh token. A token that was already rotated means it leaked or was
   * replayed: the whole family is revoked, and the refusal is audited.
   */
  async refresh(refreshToken: string): Promise<TokenResponseDto> {
    const now = this.clock.now();
    // Refusals return rather than throw, so what they revoke and audit is committed.
    const outcome = await this.dataSource.transaction(async (manager): Promise<{ tokens?: TokenResponseDto }> => {
      const session = await manager.findOne(Session, {
        where: { refreshTokenHash: hashRefreshToken(refreshToken) },
        lock: { mode: 'pessimistic_write' },
      });
      if (!session) return {};
      if (session.revokedAt) {
        if (!session.replacedBy) return {};
        await this.revokeFamily(manager, session.familyId);
        await this.record(manager, session.userId, 'auth.refresh_reuse', 'session', session.familyId, 'failure', {
          family_revoked: true,
        });
        return {};
      }
      const user = await this.users.findWithSecrets(session.userId, manager);
      const idleLimit = user.sessionTimeoutMinutes ? user.sessionTimeoutMinutes * 60_000 : Infinity;
      if (session.expiresAt <= now || !user.isActive || now.getTime() - session.lastUsedAt.getTime() > idleLimit) {
        await manager.update(Session, { id: session.id }, { revokedAt: now });
        return {};
      }
      const issued = await this.startSession(manager, session.userId, session.familyId, session.expiresAt);
      await manager.update(Session, { id: session.id }, { revokedAt: now, replacedBy: issued.sessionId });
      await this.record(manager, session.userId, 'auth.refresh', 'session', issued.sessionId, 'success');
      return { tokens: issued.tokens };
    });
    if (outcome.tokens) return outcome.tokens;
    throw INVALID_REFRESH();
  }

  /** Ends a login (the whole refresh family): of the given refresh token if it is the caller's, else of the access token. */
  async logout(me: UserPrincipal, refreshToken?: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const session = refreshToken
        ? await manager.findOne(Session, {
            where: { refreshTokenHash: hashRefreshToken(refreshToken), userId: me.userId },
          })
        : await manager.findOne(Session, { where: { id: me.sessionId } });
      if (!session) throw INVALID_REFRESH();
      await this.revokeFamily(manager, session.familyId);
      await this.record(manager, me.userId, 'auth.logout', 'session', session.familyId, 'success');
    });
  }

  async listSessions(me: UserPrincipal): Promise<SessionResponseDto[]> {
    const sessions = await this.dataSource.getRepository(Session).find({
      where: { userId: me.userId, revokedAt: IsNull(), expiresAt: MoreThan(this.clock.now()) },
      order: { lastUsedAt: 'DESC' },
    });
    return sessions.map((s) => ({
      id: s.id,
      ip: s.ip,
      user_agent: s.userAgent,
      created_at: s.createdAt.toISOString(),
      last_used_at: s.lastUsedAt.toISOString(),
      expires_at: s.expiresAt.toISOString(),
      current: s.id === me.sessionId,
    }));
  }

  async revokeSession(me: UserPrincipal, sessionId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const session = await manager.findOne(Session, { where: { id: sessionId, userId: me.userId } });
      if (!session) throw new ProblemException(HttpStatus.NOT_FOUND, 'SESSION_NOT_FOUND', 'No such session.');
      await this.revokeFamily(manager, session.familyId);
      await this.record(manager, me.userId, 'auth.session_revoke', 'session', session.familyId, 'success');
    });
  }

  /** Needs the current password (a wrong one counts towards the lockout); ends every other session. */
  async changePassword(me: UserPrincipal, dto: ChangePasswordDto): Promise<void> {
    await this.confirmPassword(me, dto.current_password, 'auth.password_change');
    if (dto.new_password === dto.current_password) {
      throw new ProblemException(
        HttpStatus.BAD_REQUEST,
        'PASSWORD_REUSED',
        'Choose a password different from the current one.',
      );
    }
    await this.dataSource.transaction(async (manager) => {
      await this.users.setPassword(me.userId, dto.new_password, manager);
      await this.users.endSessions(manager, me.userId, me.sessionId);
      await this.record(manager, me.userId, 'auth.password_change', 'user', me.userId, 'success');
    });
  }

  /**
   * Checks the current password of a signed-in user before a sensitive change (a new
   * password, turning MFA off). A wrong one counts towards the lockout and is audited.
   */
  async confirmPassword(
    me: UserPrincipal,
    password: string,
    action = 'auth.password_confirm',
  ): Promise<UserWithSecrets> {
    const user = await this.users.findWithSecrets(me.userId);
    if (await verifyPassword(user.passwordHash, password)) return user;
    await this.countFailedPassword(user.id);
    await this.record(this.dataSource.manager, me.userId, action, 'user', me.userId, 'failure');
    throw new ProblemException(HttpStatus.BAD_REQUEST, 'INVALID_PASSWORD', 'The current password is wrong.');
  }

  private async startSession(
    manager: EntityManager,
    userId: string,
    familyId: string,
    expiresAt: Date,
  ): Promise<{ sessionId: string; tokens: TokenResponseDto }> {
    const refresh = this.tokens.newRefreshToken();
    const context = currentRequestContext();
    const session = await manager.save(
      manager.create(Session, {
        userId,
        familyId,
        refreshTokenHash: refresh.hash,
        expiresAt,
        lastUsedAt: this.clock.now(),
        ip: context?.ip ?? null,
        userAgent: context?.userAgent?.slice(0, 512) ?? null,
      }),
    );
    const access = this.tokens.signAccessToken(userId, session.id);
    return {
      sessionId: session.id,
      tokens: {
        access_token: access.token,
        refresh_token: refresh.token,
        token_type: 'Bearer',
        expires_in: access.expiresIn,
      },
    };
  }

  private absoluteExpiry(): Date {
    return new Date(this.clock.now().getTime() + this.config.jwt.refreshTtlSeconds * 1000);
  }

  private async revokeFamily(manager: EntityManager, familyId: string): Promise<void> {
    await manager.update(Session, { familyId, revokedAt: IsNull() }, { revokedAt: this.clock.now() });
  }

  private async refuseAndCount(user: UserWithSecrets, reason: string): Promise<never> {
    await this.countFailedPassword(user.id);
    return this.refuse(user, reason);
  }

  /** One more failure towards the lockout; the failure that locks the account is audited. */
  private async countFailedPassword(userId: string): Promise<void> {
    const { maxFailedLogins, lockMinutes } = this.config.lockout;
    if (await this.users.recordFailedLogin(userId, maxFailedLogins, lockMinutes)) {
      await this.audit.record({
        actorType: 'system',
        action: 'auth.lockout',
        resource: 'user',
        resourceId: userId,
        status: 'success',
        details: { minutes: lockMinutes },
      });
    }
  }

  /** A record of something a user did. */
  private record(
    manager: EntityManager,
    userId: string,
    action: string,
    resource: 'session' | 'user',
    resourceId: string,
    status: 'success' | 'failure',
    details?: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.record(
      { actorType: 'user', actorId: userId, action, resource, resourceId, status, details },
      manager,
    );
  }

  private async refuse(user: UserWithSecrets | null, reason: string, attempted?: string): Promise<never> {
    await this.recordLogin(this.dataSource.manager, user?.id ?? null, 'failure', {
      reason,
      ...(attempted ? { attempted_username: attempted.slice(0, 64) } : {}),
    });
    throw INVALID_CREDENTIALS();
  }

  private recordLogin(
    manager: EntityManager,
    userId: string | null,
    status: 'success' | 'failure',
    details: Record<string, unknown>,
  ): Promise<void> {
    this.metrics.login(status === 'success' ? 'success' : String(details.reason ?? 'failure'));
    return this.audit.record(
      {
        actorType: userId ? 'user' : 'anonymous',
        actorId: userId,
        action: 'auth.login',
        resource: 'user',
        resourceId: userId,
        status,
        details,
      },
      manager,
    );
  }
}
