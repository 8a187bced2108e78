import { randomUUID } from 'node:crypto';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull, MoreThan } from 'typeorm';
import { AuditQueryService } from '#src/audit/audit-query.service.js';
import { AuditService } from '#src/audit/audit.service.js';
import { alreadyAudited, unauthenticated } from '#src/common/auth/auth-errors.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { Clock } from '#src/common/clock.js';
import { isLocked, lockedProblem } from '#src/common/lockout.js';
import { ProblemException } from '#src/common/problem.js';
import { currentRequestContext } from '#src/common/request-context.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import { MetricsRegistry } from '#src/metrics/metrics-registry.js';
import type { AppConfig } from '#src/config/config.types.js';
import { dummyPasswordHash, verifyPassword } from '#src/users/password-hasher.js';
import { UsersService, UserWithSecrets } from '#src/users/users.service.js';
import {
  ChangePasswordDto,
  LoginDto,
  LoginResponseDto,
  SessionResponseDto,
  StepUpDto,
  StepUpResponseDto,
  TokenResponseDto,
} from './dto/auth.dto.js';
import { MfaService } from './mfa.service.js';
import { Session } from './session.entity.js';
import { SessionsRepository } from './sessions.repository.js';
import { hashRefreshToken, TokenService } from './token.service.js';
import { toSessionResponse } from './auth.mapper.js';

// Each refusal is audited as auth.login (with the reason) where it happens.
const INVALID_CREDENTIALS = (): ProblemException =>
  alreadyAudited(
    unauthenticated('INVALID_CREDENTIALS', 'The username or password is wrong, or the account is locked or disabled.'),
  );
const INVALID_REFRESH = (): ProblemException =>
  unauthenticated('INVALID_REFRESH_TOKEN', 'The refresh token is not valid; sign in again.');
/** The same words for an account and for a name without one. */
const ACCOUNT_LOCKED = (lockedUntil: Date, now: Date): ProblemException =>
  lockedProblem('ACCOUNT_LOCKED', 'Too many failed sign-ins: signing in is locked for a while.', lockedUntil, now);

/** Whose sign-in failed: an account, or a login name no account has (which locks the same way). */
type LoginSubject = { user: UserWithSecrets } | { login: string };
const INVALID_PASSWORD = (): ProblemException =>
  new ProblemException(HttpStatus.BAD_REQUEST, 'INVALID_PASSWORD', 'The current password is wrong.');
/** One answer for a wrong password and a wrong code, so a step-up does not confirm a guessed password. */
const STEP_UP_FAILED = (): ProblemException =>
  new ProblemException(HttpStatus.BAD_REQUEST, 'STEP_UP_FAILED', 'The password or the MFA code is wrong.');

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
    private readonly sessions: SessionsRepository,
    private readonly auditQuery: AuditQueryService,
  ) {}

  /**
   * Sign-ins since a time, for metrics/system, from their audit records: successful, and
   * refused (a prompt for the MFA code, recorded as a failure with reason `mfa_required`, is
   * not a refusal).
   */
  async loginFigures(since: Date): Promise<{ logins: number; failed_logins: number }> {
    const counts = await this.auditQuery.outcomeCounts('auth.login', since, ['mfa_required']);
    return { logins: counts.success, failed_logins: counts.failure };
  }

  /**
   * Unknown user, wrong password, wrong MFA code and disabled account all get the same answer
   * after the same argon2 work, so neither the answer nor its timing tells which it was. Each
   * counts towards the lock (a name without an account too); a locked account or name answers
   * 423 ACCOUNT_LOCKED, and once a lock is on no password or code is answered any other way.
   */
  async login(dto: LoginDto): Promise<LoginResponseDto> {
    const login = dto.username.trim();
    const user = await this.users.findForLogin(login);
    const passwordOk = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), dto.password);
    if (!user) return this.refuseAndCount({ login }, 'unknown_user');
    if (isLocked(user.lockedUntil, this.clock.now())) return this.refuseLocked({ user }, user.lockedUntil);
    if (!user.isActive) return this.refuseAndCount({ user }, 'disabled');
    if (!passwordOk) return this.refuseAndCount({ user }, 'bad_password');
    if (user.mfaEnabled) {
      const verdict = dto.mfa_code ? await this.mfa.checkCode(user, dto.mfa_code) : 'missing';
      if (verdict === 'wrong') return this.refuseAndCount({ user }, 'bad_mfa_code');
      if (verdict !== 'accepted') {
        // Both answers follow a right password: not once a lock has landed during the check.
        const lockedUntil = await this.users.lockedUntil(user.id);
        if (lockedUntil) return this.refuseLocked({ user }, lockedUntil);
        // A replayed code is refused but is no guess: it does not count towards the lock.
        if (verdict === 'replay') return this.refuse({ user }, 'mfa_replay');
        await this.recordLogin(this.dataSource.manager, user.id, 'failure', { reason: 'mfa_required' });
        return { mfa_required: true };
      }
    }
    const tokens = await this.dataSource.transaction(async (manager) => {
      if (!(await this.users.recordSuccessfulLogin(user.id, manager))) return null;
      const issued = await this.startSession(manager, user.id, randomUUID(), this.absoluteExpiry());
      await this.recordLogin(manager, user.id, 'success', { session_id: issued.sessionId, mfa: user.mfaEnabled });
      return issued.tokens;
    });
    if (!tokens) return this.refuseLocked({ user }, await this.users.lockedUntil(user.id));
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
    return sessions.map((s) => toSessionResponse(s, me.sessionId));
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
      await this.sessions.endAll(manager, me.userId, me.sessionId);
      await this.record(manager, me.userId, 'auth.password_change', 'user', me.userId, 'success');
    });
  }

  /**
   * Re-authenticates the signed-in session: the password, plus a TOTP or recovery code when
   * MFA is on. For STEP_UP_TTL the session may then reveal or replace secrets (@StepUp
   * routes). A wrong password or code counts towards the login lockout; a locked account
   * is refused. A refreshed session starts without a step-up.
   */
  async stepUp(me: UserPrincipal, dto: StepUpDto): Promise<StepUpResponseDto> {
    const user = await this.confirmPassword(me, dto.password, 'auth.step_up', STEP_UP_FAILED);
    if (user.mfaEnabled) {
      if (!dto.mfa_code) {
        await this.record(this.dataSource.manager, me.userId, 'auth.step_up', 'user', me.userId, 'failure', {
          reason: 'mfa_required',
        });
        throw new ProblemException(
          HttpStatus.BAD_REQUEST,
          'MFA_CODE_REQUIRED',
          'MFA is on for this account: send mfa_code with the password.',
        );
      }
      const verdict = await this.mfa.checkCode(user, dto.mfa_code);
      if (verdict !== 'accepted') {
        // A wrong code counts towards the lockout (a replayed one is refused without counting).
        const counted =
          verdict === 'replay' ||
          (await this.dataSource.transaction((manager) => this.countFailure(manager, { user })));
        await this.record(this.dataSource.manager, me.userId, 'auth.step_up', 'user', me.userId, 'failure', {
          reason: counted ? 'bad_mfa_code' : 'locked',
        });
        if (!counted) {
          const now = this.clock.now();
          throw ACCOUNT_LOCKED((await this.users.lockedUntil(user.id)) ?? now, now);
        }
        throw STEP_UP_FAILED();
      }
    }
    const now = this.clock.now();
    const marked = await this.audit.recordWithChange(
      (p) =>
        `UPDATE sessions SET step_up_at = ${p.add(now)}
          WHERE id = ${p.add(me.sessionId)} AND user_id = ${p.add(me.userId)} AND revoked_at IS NULL RETURNING id`,
      {
        actorType: 'user',
        actorId: me.userId,
        action: 'auth.step_up',
        resource: 'session',
        resourceId: me.sessionId,
        status: 'success',
        details: { mfa: user.mfaEnabled },
      },
    );
    // The session ended between the token check and now (logout in parallel).
    if (marked === 0) throw unauthenticated('INVALID_TOKEN', 'The session has ended.');
    const ttl = this.config.stepUpTtlSeconds;
    return { step_up_expires_at: new Date(now.getTime() + ttl * 1000).toISOString(), expires_in: ttl };
  }

  /**
   * Checks the current password of a signed-in user before a sensitive change (a new
   * password, turning MFA off). A wrong one counts towards the lockout and is audited; a
   * locked account answers 423, as at sign-in.
   */
  async confirmPassword(
    me: UserPrincipal,
    password: string,
    action = 'auth.password_confirm',
    refusal: () => ProblemException = INVALID_PASSWORD,
  ): Promise<UserWithSecrets> {
    const user = await this.users.findWithSecrets(me.userId);
    const refuseLocked = async (lockedUntil: Date | null): Promise<never> => {
      await this.record(this.dataSource.manager, me.userId, action, 'user', me.userId, 'failure', { reason: 'locked' });
      throw ACCOUNT_LOCKED(lockedUntil ?? this.clock.now(), this.clock.now());
    };
    if (isLocked(user.lockedUntil, this.clock.now())) return refuseLocked(user.lockedUntil);
    if (await verifyPassword(user.passwordHash, password)) {
      // Right, but not once a lock has landed during the check.
      const lockedUntil = await this.users.lockedUntil(user.id);
      return lockedUntil ? refuseLocked(lockedUntil) : user;
    }
    const counted = await this.dataSource.transaction(async (manager) => {
      const outcome = await this.countFailure(manager, { user });
      if (outcome) {
        await this.record(manager, me.userId, action, 'user', me.userId, 'failure', { reason: 'bad_password' });
      }
      return outcome;
    });
    if (!counted) return refuseLocked(await this.users.lockedUntil(user.id));
    throw refusal();
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

  /** A failed sign-in: counted and answered 401, or, when the lock came first, not counted and answered 423. */
  private async refuseAndCount(subject: LoginSubject, reason: string): Promise<never> {
    const counted = await this.dataSource.transaction(async (manager) => {
      const outcome = await this.countFailure(manager, subject);
      if (outcome) await this.recordLogin(manager, userIdOf(subject), 'failure', this.failureDetails(subject, reason));
      return outcome;
    });
    if (counted) throw INVALID_CREDENTIALS();
    const lockedUntil =
      'user' in subject
        ? await this.users.lockedUntil(subject.user.id)
        : await this.users.unknownLoginLockedUntil(subject.login);
    return this.refuseLocked(subject, lockedUntil);
  }

  /**
   * One more failure towards the lock, unless the account (or name) is locked: false then, and
   * nothing is counted. The failure that locks (again, after a lapsed lock too) is audited.
   */
  private async countFailure(manager: EntityManager, subject: LoginSubject): Promise<boolean> {
    const rule = { maxFailures: this.config.lockout.maxFailedLogins, lockMinutes: this.config.lockout.lockMinutes };
    const now = this.clock.now();
    const outcome =
      'user' in subject
        ? await this.users.countFailedLogin(manager, subject.user.id, rule, now)
        : await this.users.countUnknownLoginFailure(manager, subject.login, rule, now);
    if (outcome.counted && outcome.lockedNow) {
      await this.audit.record(
        {
          actorType: 'system',
          action: 'auth.lockout',
          resource: 'user',
          resourceId: userIdOf(subject),
          status: 'success',
          details: {
            ...this.failureDetails(subject),
            failures: outcome.failures,
            minutes: rule.lockMinutes,
            locked_until: outcome.lockedUntil?.toISOString(),
          },
        },
        manager,
      );
    }
    return outcome.counted;
  }

  /** 423 for a locked account or name, audited as a refused sign-in. */
  private async refuseLocked(subject: LoginSubject, lockedUntil: Date | null): Promise<never> {
    const now = this.clock.now();
    await this.recordLogin(
      this.dataSource.manager,
      userIdOf(subject),
      'failure',
      this.failureDetails(subject, 'locked'),
    );
    // A lock that lapsed between the refusal and this read: come back at once.
    throw ACCOUNT_LOCKED(lockedUntil ?? now, now);
  }

  private failureDetails(subject: LoginSubject, reason?: string): Record<string, unknown> {
    return {
      ...(reason ? { reason } : {}),
      ...('login' in subject ? { attempted_username: subject.login.slice(0, 64) } : {}),
    };
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

  private async refuse(subject: LoginSubject, reason: string): Promise<never> {
    await this.recordLogin(this.dataSource.manager, userIdOf(subject), 'failure', this.failureDetails(subject, reason));
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

const userIdOf = (subject: LoginSubject): string | null => ('user' in subject ? subject.user.id : null);
