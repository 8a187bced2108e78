import { createHash } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { Brackets, DataSource, EntityManager, QueryFailedError, Repository } from 'typeorm';
import { AuditService } from '#src/audit/audit.service.js';
import { SessionsRepository } from '#src/auth/sessions.repository.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { Clock } from '#src/common/clock.js';
import { preparedRows } from '#src/database/prepared-query.js';
import { countedOutcome, type CountedRow, isLocked, lockEnd, type LockRule, lockSql } from '#src/common/lockout.js';
import type { Page } from '#src/common/pagination.dto.js';
import { ProblemException } from '#src/common/problem.js';
import { containsPattern } from '#src/common/sql.js';
import { AdminUpdateUserDto, ListUsersQueryDto, RegisterDto, UpdateMeDto, UserResponseDto } from './dto/user.dto.js';
import { hashPassword } from './password-hasher.js';
import { User } from './user.entity.js';
import { toUserResponse } from './users.mapper.js';
import { ACTIVE_ACCOUNTS_RELATION } from './users.repository.js';
import type { SecretCipher } from '#src/crypto/secret-cipher.js';
import type { ColumnSample } from '#src/crypto/key-ring-check.js';
import { reencryptColumn, sampleColumn, type RotationReport } from '#src/crypto/secret-reencryption.js';

/** A user as login needs it: with the password hash and MFA state. */
export type UserWithSecrets = User & { passwordHash: string; mfaSecret: string | null; mfaLastStep: string | null };

const notFound = (): ProblemException => new ProblemException(HttpStatus.NOT_FOUND, 'USER_NOT_FOUND', 'No such user.');

/** Account figures: all, not disabled, signed in since the start of the day, with MFA, locked now. */
export interface UserFigures {
  total: number;
  active: number;
  active_today: number;
  mfa_enabled: number;
  locked: number;
}

export type CountOutcome = ReturnType<typeof countedOutcome>;

const USER_LOCK = lockSql({
  failures: 'failed_login_attempts',
  lockedUntil: 'locked_until',
  now: '$2',
  maxFailures: '$3',
  lockUntil: '$4',
});

const COUNT_FAILED_LOGIN = `
  UPDATE users SET ${USER_LOCK.countFailure}
   WHERE id = $1 AND ${USER_LOCK.notLocked}
  RETURNING ${USER_LOCK.returning}`;

const RECORD_SUCCESSFUL_LOGIN = `
  UPDATE users SET ${USER_LOCK.reset}, last_login_at = $2
   WHERE id = $1 AND ${USER_LOCK.notLocked}`;

const UNKNOWN_LOCK = lockSql({
  failures: 'failed_attempts',
  lockedUntil: 'locked_until',
  table: 'f',
  now: '$2',
  maxFailures: '$3',
  lockUntil: '$4',
});

const COUNT_UNKNOWN_LOGIN_FAILURE = `
  INSERT INTO login_failures AS f (login_hash, failed_attempts, locked_until, last_failed_at)
  VALUES ($1, 1, CASE WHEN $3::int <= 1 THEN $4::timestamptz END, $2)
  ON CONFLICT (login_hash) DO UPDATE SET ${UNKNOWN_LOCK.countFailure}, last_failed_at = $2
   WHERE ${UNKNOWN_LOCK.notLocked}
  RETURNING ${UNKNOWN_LOCK.returning}`;

/** Login names without an account are kept only as this hash (people type passwords into the name field). */
const loginNameHash = (login: string): string => createHash('sha256').update(login.toLowerCase()).digest('hex');

/** A user's response columns (no password hash, no MFA secret), named as the entity's properties. */
const USER_BY_ID = `SELECT id, username, email, role, is_active AS "isActive", mfa_enabled AS "mfaEnabled",
    department, job_title AS "jobTitle", access_level AS "accessLevel",
    session_timeout_minutes AS "sessionTimeoutMinutes", must_change_password AS "mustChangePassword",
    failed_login_attempts AS "failedLoginAttempts", locked_until AS "lockedUntil",
    last_login_at AS "lastLoginAt", created_at AS "createdAt", updated_at AS "updatedAt"
  FROM users WHERE id = $1`;

@Injectable()
export class UsersService {
  /**
   * The accounts that may act, as a relation to join (`JOIN ${activeAccounts} u ON …`): the
   * auth module's session check reads session and account in one statement (then caches it).
   * Columns: id, username, role, must_change_password.
   */
  readonly activeAccounts = ACTIVE_ACCOUNTS_RELATION;

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly sessions: SessionsRepository,
  ) {}

  async register(dto: RegisterDto): Promise<UserResponseDto> {
    const passwordHash = await hashPassword(dto.password);
    const user = await this.dataSource.transaction(async (manager) => {
      const created = await this.insertUser(manager, {
        username: dto.username,
        email: dto.email,
        passwordHash,
        department: dto.department ?? null,
        jobTitle: dto.job_title ?? null,
      });
      await this.audit.record(
        {
          actorType: 'user',
          actorId: created.id,
          action: 'user.register',
          resource: 'user',
          resourceId: created.id,
          status: 'success',
        },
        manager,
      );
      return created;
    });
    return toUserResponse(user);
  }

  /** Inserts a user; a taken username or e-mail is a 409, not a 500. */
  async insertUser(manager: EntityManager, fields: Partial<User> & { passwordHash: string }): Promise<User> {
    try {
      return await manager.save(manager.create(User, fields));
    } catch (error) {
      const constraint = (error as QueryFailedError & { constraint?: string }).constraint;
      if (constraint === 'UQ_users_username') {
        throw new ProblemException(HttpStatus.CONFLICT, 'USERNAME_TAKEN', 'That username is taken.');
      }
      if (constraint === 'UQ_users_email') {
        throw new ProblemException(HttpStatus.CONFLICT, 'EMAIL_TAKEN', 'That e-mail address is already registered.');
      }
      throw error;
    }
  }

  /** By username or e-mail, case-insensitively, with the secrets login needs. */
  findForLogin(login: string): Promise<UserWithSecrets | null> {
    return this.users
      .createQueryBuilder('u')
      .addSelect(['u.passwordHash', 'u.mfaSecret', 'u.mfaLastStep'])
      .where('lower(u.username) = lower(:login) OR lower(u.email) = lower(:login)', { login })
      .getOne() as Promise<UserWithSecrets | null>;
  }

  /** The id of the account a login name (username or e-mail, any case) belongs to, if any. */
  async idForLogin(login: string): Promise<string | null> {
    const row = await this.users
      .createQueryBuilder('u')
      .select('u.id', 'id')
      .where('lower(u.username) = lower(:login) OR lower(u.email) = lower(:login)', { login })
      .getRawOne<{ id: string }>();
    return row?.id ?? null;
  }

  /** Pass the transaction's manager when inside one: the embedded database serves one transaction at a time. */
  async findWithSecrets(id: string, manager: EntityManager = this.dataSource.manager): Promise<UserWithSecrets> {
    const user = await manager
      .createQueryBuilder(User, 'u')
      .addSelect(['u.passwordHash', 'u.mfaSecret', 'u.mfaLastStep'])
      .where('u.id = :id', { id })
      .getOne();
    if (!user) throw notFound();
    return user as UserWithSecrets;
  }

  /** Read on every `GET users/me`: a prepared statement of the response's columns only. */
  async getById(id: string): Promise<UserResponseDto> {
    const [user] = await preparedRows<User>(this.dataSource, USER_BY_ID, [id]);
    if (!user) throw notFound();
    return toUserResponse(user);
  }

  /** The id of the account with this username (case-insensitive, as sign-in reads it), or null. */
  async idOfUsername(username: string): Promise<string | null> {
    const user = await this.users
      .createQueryBuilder('u')
      .select('u.id')
      .where('lower(u.username) = lower(:username)', { username })
      .getOne();
    return user?.id ?? null;
  }

  async updateMe(me: UserPrincipal, dto: UpdateMeDto): Promise<UserResponseDto> {
    return this.update(me.userId, { department: dto.department, jobTitle: dto.job_title }, me, 'user.update_self');
  }

  async list(query: ListUsersQueryDto): Promise<Page<UserResponseDto>> {
    const qb = this.users.createQueryBuilder('u');
    if (query.role) qb.andWhere('u.role = :role', { role: query.role });
    if (query.is_active !== undefined) qb.andWhere('u.is_active = :active', { active: query.is_active });
    if (query.locked !== undefined) {
      qb.andWhere(query.locked ? 'u.locked_until > :now' : '(u.locked_until IS NULL OR u.locked_until <= :now)', {
        now: this.clock.now(),
      });
    }
    if (query.search) {
      const pattern = containsPattern(query.search);
      qb.andWhere(new Brackets((w) => w.where('u.username ILIKE :p', { p: pattern }).orWhere('u.email ILIKE :p')));
    }
    const [rows, total] = await qb
      .orderBy('u.created_at', 'DESC')
      .addOrderBy('u.id')
      .take(query.limit)
      .skip(query.offset)
      .getManyAndCount();
    return { items: rows.map(toUserResponse), total, limit: query.limit, offset: query.offset };
  }

  async adminUpdate(id: string, dto: AdminUpdateUserDto, admin: UserPrincipal): Promise<UserResponseDto> {
    if (id === admin.userId && (dto.role === 'user' || dto.is_active === false)) {
      throw new ProblemException(
        HttpStatus.CONFLICT,
        'SELF_LOCKOUT',
        'Administrators cannot demote or disable themselves.',
      );
    }
    return this.update(
      id,
      {
        role: dto.role,
        isActive: dto.is_active,
        accessLevel: dto.access_level,
        sessionTimeoutMinutes: dto.session_timeout_minutes,
        mustChangePassword: dto.must_change_password,
        department: dto.department,
        jobTitle: dto.job_title,
      },
      admin,
      'user.admin_update',
    );
  }

  async delete(id: string, admin: UserPrincipal): Promise<void> {
    if (id === admin.userId) {
      throw new ProblemException(HttpStatus.CONFLICT, 'SELF_LOCKOUT', 'Administrators cannot delete themselves.');
    }
    await this.dataSource.transaction(async (manager) => {
      const result = await manager.delete(User, { id });
      if (!result.affected) throw notFound();
      await this.audit.record(
        {
          actorType: 'user',
          actorId: admin.userId,
          action: 'user.delete',
          resource: 'user',
          resourceId: id,
          status: 'success',
        },
        manager,
      );
    });
  }

  async unlock(id: string, admin: UserPrincipal): Promise<UserResponseDto> {
    return this.update(id, { failedLoginAttempts: 0, lockedUntil: null }, admin, 'user.unlock');
  }

  /** Applies a change and its audit record together; disabling a user also ends its sessions. */
  private async update(
    id: string,
    changes: Partial<User>,
    actor: UserPrincipal,
    action: string,
  ): Promise<UserResponseDto> {
    const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) as Partial<User>;
    return this.dataSource.transaction(async (manager) => {
      const user = await manager.findOne(User, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw notFound();
      Object.assign(user, defined);
      const saved = await manager.save(user);
      if (defined.isActive === false) await this.sessions.endAll(manager, id);
      await this.audit.record(
        {
          actorType: 'user',
          actorId: actor.userId,
          action,
          resource: 'user',
          resourceId: id,
          status: 'success',
          details: { fields: Object.keys(defined) },
        },
        manager,
      );
      return toUserResponse(saved);
    });
  }

  /**
   * Counts a failed sign-in unless the account is locked, setting the lock at the limit: the
   * verdict and the count are one statement, so concurrent guesses are counted one by one and
   * none is answered "wrong" once the lock is on (`counted: false`: answer 423).
   */
  async countFailedLogin(manager: EntityManager, userId: string, rule: LockRule, now: Date): Promise<CountOutcome> {
    const [rows] = await manager.query<[CountedRow[], number]>(COUNT_FAILED_LOGIN, [
      userId,
      now,
      rule.maxFailures,
      lockEnd(rule, now),
    ]);
    return countedOutcome(rows[0]);
  }

  /**
   * The same count for a login name no account has, kept by a hash of the name: such a name
   * locks exactly like an account, so the 423 does not tell which names exist.
   */
  async countUnknownLoginFailure(
    manager: EntityManager,
    login: string,
    rule: LockRule,
    now: Date,
  ): Promise<CountOutcome> {
    const rows = await manager.query<CountedRow[]>(COUNT_UNKNOWN_LOGIN_FAILURE, [
      loginNameHash(login),
      now,
      rule.maxFailures,
      lockEnd(rule, now),
    ]);
    return countedOutcome(rows[0]);
  }

  /** The end of the account's lock, or null when it is not locked now (read after a statement found it locked). */
  async lockedUntil(userId: string, manager: EntityManager = this.dataSource.manager): Promise<Date | null> {
    const [row] = await manager.query<{ locked_until: Date | null }[]>(`SELECT locked_until FROM users WHERE id = $1`, [
      userId,
    ]);
    return isLocked(row?.locked_until, this.clock.now()) ? row!.locked_until : null;
  }

  /** The same for a login name no account has. */
  async unknownLoginLockedUntil(login: string, manager: EntityManager = this.dataSource.manager): Promise<Date | null> {
    const [row] = await manager.query<{ locked_until: Date | null }[]>(
      `SELECT locked_until FROM login_failures WHERE login_hash = $1`,
      [loginNameHash(login)],
    );
    return isLocked(row?.locked_until, this.clock.now()) ? row!.locked_until : null;
  }

  /** Records a successful sign-in and resets the count, unless a lock landed first (then false: answer 423). */
  async recordSuccessfulLogin(userId: string, manager: EntityManager): Promise<boolean> {
    const [, affected] = await manager.query<[unknown[], number]>(RECORD_SUCCESSFUL_LOGIN, [userId, this.clock.now()]);
    return affected === 1;
  }

  async setPassword(userId: string, password: string, manager: EntityManager): Promise<void> {
    const passwordHash = await hashPassword(password);
    await manager.update(User, { id: userId }, { passwordHash, mustChangePassword: false });
  }

  async setMfa(
    userId: string,
    fields: Partial<Pick<User, 'mfaEnabled' | 'mfaSecret' | 'mfaLastStep'>>,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<void> {
    await manager.update(User, { id: userId }, fields);
  }

  /** Accepts an MFA time step once: true only for the first caller presenting a step newer than the last. */
  async claimMfaStep(userId: string, step: number): Promise<boolean> {
    const [, affected] = await this.dataSource.query(
      `UPDATE users SET mfa_last_step = $2 WHERE id = $1 AND (mfa_last_step IS NULL OR mfa_last_step < $2)`,
      [userId, step],
    );
    return affected === 1;
  }

  count(): Promise<number> {
    return this.users.count();
  }

  /** Figures over all accounts for metrics/system: one statement. */
  async figures(now: Date, startOfDay: Date): Promise<UserFigures> {
    const [row] = await this.dataSource.query<UserFigures[]>(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE is_active)::int AS active,
              count(*) FILTER (WHERE last_login_at >= $1)::int AS active_today,
              count(*) FILTER (WHERE mfa_enabled)::int AS mfa_enabled,
              count(*) FILTER (WHERE locked_until > $2)::int AS locked
         FROM users`,
      [startOfDay, now],
    );
    return row;
  }

  /** A few stored MFA secrets, for the start-up key ring check. */
  async secretSamples(): Promise<ColumnSample[]> {
    const sample = await sampleColumn(this.dataSource, { table: 'users', column: 'mfa_secret' });
    return sample ? [sample] : [];
  }

  /** Re-encrypts the MFA secrets under the cipher's active key (secrets:rotate); one report per column. */
  async reencryptSecrets(cipher: SecretCipher): Promise<RotationReport[]> {
    const report = await reencryptColumn(this.dataSource, this.audit, cipher, { table: 'users', column: 'mfa_secret' });
    return report ? [report] : [];
  }
}
