import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { AuditService } from '#src/audit/audit.service.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { Clock } from '#src/common/clock.js';
import { countedOutcome, type CountedRow, isLocked, lockedProblem, lockEnd, lockSql } from '#src/common/lockout.js';
import { ProblemException } from '#src/common/problem.js';
import { currentRequestContext } from '#src/common/request-context.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { SecretCipher } from '#src/crypto/secret-cipher.js';
import { MetricsRegistry } from '#src/metrics/metrics-registry.js';
import { preparedRows } from '#src/database/prepared-query.js';
import {
  generateHotp,
  generateTotp,
  type OtpAlgorithm,
  type OtpDigits,
  resyncHotp,
  totpStep,
  verifyHotp,
  verifyTotp,
} from '#src/otp/otp-engine.js';
import type {
  BulkGenerateResultDto,
  BulkItemDto,
  GeneratedOtpDto,
  GenerateOtpDto,
  LiveCodeDto,
  LiveCodesDto,
  ResyncResultDto,
  ValidateOtpDto,
  ValidationResultDto,
} from './dto/otp-codes.dto.js';
import { OtpConfig, type OtpConfigWithSecret } from './otp-config.entity.js';
import { OtpConfigsService } from './otp-configs.service.js';
import { OtpEventsService } from './otp-events.service.js';
import { LiveCodeCache } from './live-code-cache.js';
import { ValidationCopies } from './validation-copies.js';

/** The most live codes one request computes. */
const MAX_LIVE_CODES = 500;

/** A person's active TOTP configurations, in name order. */
const LIVE_CODES = `SELECT id, name, issuer, account_name, secret, algorithm, digits, period FROM otp_configs
  WHERE owner_id = $1 AND is_active AND otp_type = 'totp' ORDER BY name, id LIMIT $2`;

interface LiveCodeRow {
  id: string;
  name: string;
  issuer: string | null;
  account_name: string | null;
  secret: string;
  algorithm: OtpAlgorithm;
  digits: OtpDigits;
  period: number;
}

/** Resynchronisation may search further than validation: it needs two codes in a row. */
const RESYNC_LOOK_AHEAD = 100;

const INVALID_CODE = 'The code is not valid.';

const inactive = (): ProblemException =>
  new ProblemException(HttpStatus.CONFLICT, 'CONFIG_INACTIVE', 'This OTP configuration is deactivated.');
const hotpOnly = (): ProblemException =>
  new ProblemException(HttpStatus.BAD_REQUEST, 'HOTP_ONLY', 'Resynchronisation applies to HOTP configurations only.');
const totpOnly = (): ProblemException =>
  new ProblemException(HttpStatus.BAD_REQUEST, 'TOTP_ONLY', 'Live codes exist for TOTP configurations only.');

/** The lock columns of a configuration, for the claims ($3 is now) and for counting a failure. */
const CLAIM_LOCK = lockSql({ failures: 'failed_attempts', lockedUntil: 'locked_until', now: '$3' });
const FAILURE_LOCK = lockSql({
  failures: 'failed_attempts',
  lockedUntil: 'locked_until',
  now: '$2',
  maxFailures: '$3',
  lockUntil: '$4',
});

/**
 * One statement claims the step (replay guard + lock check) and records the success, so it is
 * atomic and cheap; `also` adds conditions of its own (parameters from $7 on).
 */
const claimTotpStep = (also = ''): string => `
  WITH claimed AS (
    UPDATE otp_configs SET last_used_step = $2, ${CLAIM_LOCK.reset}, updated_at = $3
     WHERE id = $1 AND is_active AND (last_used_step IS NULL OR last_used_step < $2) AND ${CLAIM_LOCK.notLocked} ${also}
    RETURNING id, owner_id)
  INSERT INTO otp_events (user_id, config_id, event_type, drift, ip, user_agent, created_at)
  SELECT owner_id, id, 'validate_success', $4, $5, $6, $3 FROM claimed
  RETURNING id`;
const CLAIM_TOTP_STEP = claimTotpStep();
/**
 * The claim for a code checked against a remembered copy of the configuration: it holds only
 * while the owner, the stored (encrypted) secret and the parameters are still the copy's.
 */
const CLAIM_TOTP_STEP_IF_UNCHANGED = claimTotpStep(
  `AND owner_id = $7 AND otp_type = 'totp' AND secret = $8 AND algorithm = $9 AND digits = $10 AND period = $11`,
);

/** Moves the HOTP counter past the match, only from the counter the check started from. */
const ADVANCE_HOTP_COUNTER = `
  WITH advanced AS (
    UPDATE otp_configs SET counter = $2, ${CLAIM_LOCK.reset}, updated_at = $3
     WHERE id = $1 AND is_active AND counter = $7 AND ${CLAIM_LOCK.notLocked}
    RETURNING id, owner_id)
  INSERT INTO otp_events (user_id, config_id, event_type, drift, ip, user_agent, created_at)
  SELECT owner_id, id, 'validate_success', $4, $5, $6, $3 FROM advanced
  RETURNING id`;

/** Consumes one HOTP counter value and records the generation. */
const CONSUME_HOTP_COUNTER = `
  WITH bumped AS (
    UPDATE otp_configs SET counter = counter + 1, updated_at = $3
     WHERE id = $1 AND owner_id = $2 AND is_active AND otp_type = 'hotp'
    RETURNING id, owner_id, counter),
  recorded AS (
    INSERT INTO otp_events (user_id, config_id, event_type, ip, user_agent, created_at)
    SELECT owner_id, id, 'generate', $4, $5, $3 FROM bumped)
  SELECT counter FROM bumped`;

/**
 * Counts a failure unless the configuration is locked (no row then: the answer is 423); at the
 * limit it locks. The verdict and the count are one statement, so concurrent guesses are counted
 * one by one and none is answered "wrong" once the lock is on.
 */
const COUNT_FAILURE = `
  UPDATE otp_configs SET ${FAILURE_LOCK.countFailure}
   WHERE id = $1 AND ${FAILURE_LOCK.notLocked}
  RETURNING ${FAILURE_LOCK.returning}`;

/** Codes of a person's configurations: generate, validate (once per step), resynchronise, bulk and live views. */
@Injectable()
export class OtpCodesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly configs: OtpConfigsService,
    private readonly events: OtpEventsService,
    private readonly cipher: SecretCipher,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsRegistry,
  ) {}

  private readonly liveCodeCache = new LiveCodeCache();
  private readonly validationCopies = new ValidationCopies();

  async generate(me: UserPrincipal, dto: GenerateOtpDto): Promise<GeneratedOtpDto> {
    const config = await this.configs.findWithSecret(me.userId, dto.config_id);
    if (!config.isActive) throw inactive();
    const now = this.clock.now();
    const secret = this.cipher.decrypt(config.secret);
    const base = { config_id: config.id, otp_type: config.otpType, generated_at: now.toISOString() };
    if (config.otpType === 'totp') {
      const period = config.period as number;
      const totp = generateTotp({
        secret,
        algorithm: config.algorithm,
        digits: config.digits,
        period,
        now: now.getTime(),
      });
      await this.events.record(this.dataSource.manager, me.userId, 'generate', [config.id]);
      return { ...base, code: totp.code, remaining_seconds: totp.remainingSeconds, interval: period };
    }
    if (!dto.counter_increment) {
      const counter = Number(config.counter);
      await this.events.record(this.dataSource.manager, me.userId, 'generate', [config.id]);
      return {
        ...base,
        code: generateHotp({ secret, algorithm: config.algorithm, digits: config.digits, counter }),
        counter,
      };
    }
    const context = currentRequestContext();
    const [row] = await this.dataSource.query<{ counter: string }[]>(CONSUME_HOTP_COUNTER, [
      config.id,
      me.userId,
      now,
      context?.ip ?? null,
      context?.userAgent?.slice(0, 512) ?? null,
    ]);
    if (!row) throw inactive();
    const next = Number(row.counter);
    const code = generateHotp({ secret, algorithm: config.algorithm, digits: config.digits, counter: next - 1 });
    return { ...base, code, counter: next - 1, next_counter: next };
  }

  /**
   * TOTP: within the window, each step once. HOTP: within the look-ahead, moving the counter
   * past the match. Wrong codes count towards a lock (replays are refused without counting);
   * answers never say why a code failed.
   */
  async validate(me: UserPrincipal, dto: ValidateOtpDto): Promise<ValidationResultDto> {
    const accepted = await this.acceptInOneStatement(me, dto);
    if (accepted) return accepted;
    const config = await this.configs.findWithSecret(me.userId, dto.config_id);
    if (config.otpType === 'totp') this.validationCopies.remember(config);
    if (!config.isActive) throw inactive();
    const now = this.clock.now();
    this.assertNotLocked(config, now);
    const secret = this.cipher.decrypt(config.secret);
    const { algorithm, digits } = config;
    let match: { sql: string; value: number; drift: number; expectedCounter?: string } | null = null;
    let replayed = false;
    if (config.otpType === 'totp') {
      const result = verifyTotp({
        secret,
        algorithm,
        digits,
        period: config.period as number,
        code: dto.otp_code,
        now: now.getTime(),
        window: this.config.otp.totpWindow,
        afterStep: config.lastUsedStep === null ? null : Number(config.lastUsedStep),
      });
      if (result.valid) match = { sql: CLAIM_TOTP_STEP, value: result.step, drift: result.drift };
      else replayed = result.reason === 'replay';
    } else {
      const counter = Number(config.counter);
      const result = verifyHotp({
        secret,
        algorithm,
        digits,
        counter,
        code: dto.otp_code,
        lookAhead: this.config.otp.hotpLookAhead,
      });
      if (result.valid) {
        match = {
          sql: ADVANCE_HOTP_COUNTER,
          value: result.nextCounter,
          drift: result.matchedCounter - counter,
          expectedCounter: config.counter as string,
        };
      }
    }
    if (match) {
      if (await this.claim(config, now, match)) {
        this.metrics.otpVerification('config', 'success');
        return { is_valid: true, config_id: config.id, message: 'The code is valid.', drift: match.drift };
      }
      // A matching code that lost its claim was used already, or the lock landed first (423:
      // a right code is never answered "wrong").
      const lockedUntil = await this.lockedUntil(config.id, now);
      if (lockedUntil) this.refuseLocked(lockedUntil, now);
      replayed = true;
    }
    // A replay is refused but is not a guess, so it does not count towards the lock (a double
    // submit must not lock anyone out).
    if (replayed) {
      this.metrics.otpVerification('config', 'replay');
      await this.events.record(this.dataSource.manager, me.userId, 'validate_failure', [config.id]);
    } else {
      const lockedUntil = await this.countFailure(me, config, now);
      if (lockedUntil) this.refuseLocked(lockedUntil, now);
      this.metrics.otpVerification('config', 'failure');
    }
    return { is_valid: false, config_id: config.id, message: INVALID_CODE };
  }

  /**
   * The common case in one round trip: a right TOTP code for a configuration validated lately.
   * The code is checked against the remembered copy; the claim then holds only if the copy is
   * still the configuration (owner, stored secret, parameters), it is active and not locked and
   * the step is new. Anything else changes nothing and answers null: the full path decides.
   */
  private async acceptInOneStatement(me: UserPrincipal, dto: ValidateOtpDto): Promise<ValidationResultDto | null> {
    const copy = this.validationCopies.of(dto.config_id);
    if (!copy || copy.ownerId !== me.userId) return null;
    const now = this.clock.now();
    const result = verifyTotp({
      secret: this.cipher.decrypt(copy.secret),
      algorithm: copy.algorithm,
      digits: copy.digits,
      period: copy.period,
      code: dto.otp_code,
      now: now.getTime(),
      window: this.config.otp.totpWindow,
    });
    if (!result.valid) return null;
    const context = currentRequestContext();
    const rows = await preparedRows(this.dataSource, CLAIM_TOTP_STEP_IF_UNCHANGED, [
      copy.id,
      result.step,
      now,
      result.drift,
      context?.ip ?? null,
      context?.userAgent?.slice(0, 512) ?? null,
      copy.ownerId,
      copy.secret,
      copy.algorithm,
      copy.digits,
      copy.period,
    ]);
    if (rows.length !== 1) return null;
    this.metrics.otpVerification('config', 'success');
    return { is_valid: true, config_id: copy.id, message: 'The code is valid.', drift: result.drift };
  }

  /** RFC 4226 §7.4: two consecutive codes move the server's counter to the token's. */
  async resync(me: UserPrincipal, id: string, codes: [string, string]): Promise<ResyncResultDto> {
    const config = await this.configs.findWithSecret(me.userId, id);
    if (config.otpType !== 'hotp') throw hotpOnly();
    if (!config.isActive) throw inactive();
    const now = this.clock.now();
    this.assertNotLocked(config, now);
    const counter = Number(config.counter);
    const result = resyncHotp({
      secret: this.cipher.decrypt(config.secret),
      algorithm: config.algorithm,
      digits: config.digits,
      codes,
      counter,
      lookAhead: RESYNC_LOOK_AHEAD,
    });
    if (result.valid) {
      const claimed = await this.claim(config, now, {
        sql: ADVANCE_HOTP_COUNTER,
        value: result.nextCounter,
        drift: result.nextCounter - 2 - counter,
        expectedCounter: config.counter as string,
      });
      if (claimed) {
        await this.audit.record({
          actorType: 'user',
          actorId: me.userId,
          action: 'otp_config.resync',
          resource: 'otp_config',
          resourceId: config.id,
          status: 'success',
          details: { skipped: result.nextCounter - 2 - counter },
        });
        return { resynchronized: true, config_id: config.id, next_counter: result.nextCounter };
      }
    }
    const lockedUntil = await this.countFailure(me, config, now);
    if (lockedUntil) this.refuseLocked(lockedUntil, now);
    throw new ProblemException(
      HttpStatus.BAD_REQUEST,
      'RESYNC_FAILED',
      'The codes are not two consecutive valid codes.',
    );
  }

  /** Codes for up to 100 configurations; each id answers a code or why not (missing and foreign look alike). */
  async bulkGenerate(me: UserPrincipal, ids: string[]): Promise<BulkGenerateResultDto> {
    const found = await this.dataSource
      .getRepository(OtpConfig)
      .createQueryBuilder('c')
      .addSelect('c.secret')
      .where({ id: In(ids), ownerId: me.userId })
      .getMany();
    const byId = new Map(found.map((c) => [c.id, c as OtpConfigWithSecret]));
    const now = this.clock.now();
    const results = ids.map((id): BulkItemDto => {
      const config = byId.get(id);
      if (!config) return { config_id: id, error: 'CONFIG_NOT_FOUND' };
      if (!config.isActive) return { config_id: id, error: 'CONFIG_INACTIVE' };
      return { config_id: id, ...this.currentCode(config, now.getTime()) };
    });
    await this.events.record(
      this.dataSource.manager,
      me.userId,
      'generate',
      results.filter((r) => r.code !== undefined).map((r) => r.config_id),
    );
    return { results, generated_at: now.toISOString() };
  }

  /** The account-manager view: every active TOTP configuration with its code and seconds left. */
  /**
   * Every live code of the person. A code is computed once per step and shown again from the
   * cache; a generation event is recorded for each code computed, not for each showing, so a
   * console that polls does not write a row per account per poll. Usually one statement.
   */
  async liveCodes(me: UserPrincipal): Promise<LiveCodesDto> {
    const now = this.clock.now();
    const rows = await preparedRows<LiveCodeRow>(this.dataSource, LIVE_CODES, [me.userId, MAX_LIVE_CODES]);
    const at = now.getTime();
    const generated: string[] = [];
    const items = rows.map((row) => {
      const step = totpStep(at, row.period);
      const source = `${row.secret}|${row.algorithm}/${row.digits}/${row.period}`;
      let code = this.liveCodeCache.get(row.id, step, source);
      if (code === undefined) {
        const secret = this.cipher.decrypt(row.secret);
        code = generateTotp({ secret, algorithm: row.algorithm, digits: row.digits, period: row.period, now: at }).code;
        this.liveCodeCache.set(row.id, step, source, code);
        generated.push(row.id);
      }
      return {
        config_id: row.id,
        name: row.name,
        issuer: row.issuer,
        account_name: row.account_name,
        code,
        remaining_seconds: row.period - (Math.floor(at / 1000) % row.period),
        interval: row.period,
        digits: row.digits,
      };
    });
    await this.events.record(this.dataSource.manager, me.userId, 'generate', generated);
    return { items, generated_at: now.toISOString() };
  }

  async liveCodeOf(me: UserPrincipal, id: string): Promise<LiveCodeDto> {
    const config = await this.configs.findWithSecret(me.userId, id);
    if (config.otpType !== 'totp') throw totpOnly();
    if (!config.isActive) throw inactive();
    const item = this.liveCode(config, this.clock.now().getTime());
    await this.events.record(this.dataSource.manager, me.userId, 'generate', [config.id]);
    return item;
  }

  private liveCode(config: OtpConfigWithSecret, now: number): LiveCodeDto {
    const { code, remaining_seconds } = this.currentCode(config, now);
    return {
      config_id: config.id,
      name: config.name,
      issuer: config.issuer,
      account_name: config.accountName,
      code,
      remaining_seconds: remaining_seconds as number,
      interval: config.period as number,
      digits: config.digits,
    };
  }

  /** TOTP: the code of now. HOTP: the code of the stored counter, which is not consumed. */
  private currentCode(
    config: OtpConfigWithSecret,
    now: number,
  ): { code: string; remaining_seconds?: number; counter?: number } {
    const secret = this.cipher.decrypt(config.secret);
    const { algorithm, digits } = config;
    if (config.otpType === 'totp') {
      const totp = generateTotp({ secret, algorithm, digits, period: config.period as number, now });
      return { code: totp.code, remaining_seconds: totp.remainingSeconds };
    }
    const counter = Number(config.counter);
    return { code: generateHotp({ secret, algorithm, digits, counter }), counter };
  }

  private assertNotLocked(config: OtpConfig, now: Date): void {
    if (isLocked(config.lockedUntil, now)) this.refuseLocked(config.lockedUntil, now);
  }

  private refuseLocked(lockedUntil: Date, now: Date): never {
    this.metrics.otpVerification('config', 'locked');
    throw lockedProblem(
      'VALIDATION_LOCKED',
      'Too many failed validations: this configuration is locked for a while.',
      lockedUntil,
      now,
    );
  }

  /** The lock end, read after a statement found the configuration locked; null when it is not locked now. */
  private async lockedUntil(
    id: string,
    now: Date,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<Date | null> {
    const [row] = await manager.query<{ locked_until: Date | null }[]>(
      'SELECT locked_until FROM otp_configs WHERE id = $1',
      [id],
    );
    return isLocked(row?.locked_until, now) ? row!.locked_until : null;
  }

  /** True when this request won the step (or counter): concurrent or replayed uses of a code find it taken. */
  private async claim(
    config: OtpConfig,
    now: Date,
    match: { sql: string; value: number; drift: number; expectedCounter?: string },
  ): Promise<boolean> {
    const context = currentRequestContext();
    const params: unknown[] = [
      config.id,
      match.value,
      now,
      match.drift,
      context?.ip ?? null,
      context?.userAgent?.slice(0, 512) ?? null,
    ];
    if (match.expectedCounter !== undefined) params.push(match.expectedCounter);
    return (await preparedRows(this.dataSource, match.sql, params)).length === 1;
  }

  /**
   * Counts a wrong code (with its event) unless the configuration is locked; the failure that
   * locks it, again after a lapsed lock too, is audited. Answers the lock end when the lock
   * came first (nothing counted: answer 423), else null.
   */
  private async countFailure(me: UserPrincipal, config: OtpConfig, now: Date): Promise<Date | null> {
    const rule = this.config.otp;
    return this.dataSource.transaction(async (manager) => {
      const [rows] = await manager.query<[CountedRow[], number]>(COUNT_FAILURE, [
        config.id,
        now,
        rule.maxFailures,
        lockEnd(rule, now),
      ]);
      const outcome = countedOutcome(rows[0]);
      if (!outcome.counted) return (await this.lockedUntil(config.id, now, manager)) ?? now;
      await this.events.record(manager, me.userId, 'validate_failure', [config.id]);
      if (outcome.lockedNow) {
        await this.audit.record(
          {
            actorType: 'user',
            actorId: me.userId,
            action: 'otp_config.validation_lock',
            resource: 'otp_config',
            resourceId: config.id,
            status: 'success',
            details: {
              failures: outcome.failures,
              minutes: rule.lockMinutes,
              locked_until: outcome.lockedUntil?.toISOString(),
            },
          },
          manager,
        );
      }
      return null;
    });
  }
}
