import { createHash } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '#src/audit/audit.service.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { Clock } from '#src/common/clock.js';
import { ProblemException } from '#src/common/problem.js';
import { randomSecret } from '#src/crypto/random.js';
import { SecretCipher } from '#src/crypto/secret-cipher.js';
import { MetricsRegistry } from '#src/metrics/metrics-registry.js';
import { encodeBase32 } from '#src/otp/base32.js';
import { verifyTotp } from '#src/otp/otp-engine.js';
import { buildOtpauthUri } from '#src/otp/otpauth-uri.js';
import { qrPngDataUrl } from '#src/otp/qr.js';
import { UsersService, UserWithSecrets } from '#src/users/users.service.js';
import { MfaEnabledDto, MfaEnrolmentDto } from './dto/auth.dto.js';
import { RecoveryCode } from './recovery-code.entity.js';

const ISSUER = 'OTP Service';
const RECOVERY_CODES = 10;
/** The authenticator every MFA user has: SHA-1, 6 digits, 30 s, ±1 step. */
const MFA_TOTP = { algorithm: 'sha1', digits: 6, period: 30, window: 1 } as const;

/** What a presented MFA code is: accepted (and used up), a replay of a used time step, or wrong. */
export type MfaCodeVerdict = 'accepted' | 'replay' | 'wrong';

const invalidCode = (): ProblemException =>
  new ProblemException(HttpStatus.BAD_REQUEST, 'INVALID_MFA_CODE', 'The code is not valid.');

/** TOTP second factor for people: enrolment, confirmation with recovery codes, checks, removal. */
@Injectable()
export class MfaService {
  constructor(
    private readonly users: UsersService,
    private readonly cipher: SecretCipher,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: MetricsRegistry,
  ) {}

  /** Starts enrolment: a fresh secret, kept encrypted and pending until a first code confirms it. */
  async enable(me: UserPrincipal): Promise<MfaEnrolmentDto> {
    const user = await this.users.findWithSecrets(me.userId);
    if (user.mfaEnabled) throw new ProblemException(HttpStatus.CONFLICT, 'MFA_ALREADY_ENABLED', 'MFA is already on.');
    const secret = randomSecret(20);
    await this.dataSource.transaction(async (manager) => {
      await this.users.setMfa(me.userId, { mfaSecret: this.cipher.encrypt(secret), mfaLastStep: null }, manager);
      await this.record(manager, me.userId, 'mfa.enrolment_started');
    });
    const uri = buildOtpauthUri({
      type: 'totp',
      issuer: ISSUER,
      accountName: user.username,
      secret,
      algorithm: MFA_TOTP.algorithm,
      digits: MFA_TOTP.digits,
      period: MFA_TOTP.period,
    });
    return { mfa_secret: encodeBase32(secret), mfa_uri: uri, qr_code: await qrPngDataUrl(uri) };
  }

  /** Confirms enrolment with a first code; answers the recovery codes, shown this once. */
  async confirm(me: UserPrincipal, code: string): Promise<MfaEnabledDto> {
    const user = await this.users.findWithSecrets(me.userId);
    if (user.mfaEnabled) throw new ProblemException(HttpStatus.CONFLICT, 'MFA_ALREADY_ENABLED', 'MFA is already on.');
    if (!user.mfaSecret) {
      throw new ProblemException(HttpStatus.CONFLICT, 'MFA_NOT_STARTED', 'Start with POST /api/v1/auth/mfa/enable.');
    }
    if ((await this.checkTotp(user, code)) !== 'accepted') {
      await this.record(this.dataSource.manager, me.userId, 'mfa.confirm', 'failure');
      throw invalidCode();
    }
    const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
    await this.dataSource.transaction(async (manager) => {
      await this.users.setMfa(me.userId, { mfaEnabled: true }, manager);
      await manager.delete(RecoveryCode, { userId: me.userId });
      await manager.insert(
        RecoveryCode,
        codes.map((c) => ({ userId: me.userId, codeHash: hashRecoveryCode(c) })),
      );
      await this.record(manager, me.userId, 'mfa.enabled');
    });
    return { mfa_enabled: true, recovery_codes: codes };
  }

  /** Turns MFA off; needs the password (checked by the caller) and a code. */
  async disable(me: UserPrincipal, code: string): Promise<void> {
    const user = await this.users.findWithSecrets(me.userId);
    if (!user.mfaEnabled) throw new ProblemException(HttpStatus.CONFLICT, 'MFA_NOT_ENABLED', 'MFA is not on.');
    if ((await this.checkCode(user, code)) !== 'accepted') {
      await this.record(this.dataSource.manager, me.userId, 'mfa.disable', 'failure');
      throw invalidCode();
    }
    await this.dataSource.transaction(async (manager) => {
      await this.users.setMfa(me.userId, { mfaEnabled: false, mfaSecret: null, mfaLastStep: null }, manager);
      await manager.delete(RecoveryCode, { userId: me.userId });
      await this.record(manager, me.userId, 'mfa.disabled');
    });
  }

  /** A TOTP code (each time step once) or an unused recovery code (used up by this call). */
  async checkCode(user: UserWithSecrets, code: string): Promise<MfaCodeVerdict> {
    if (/^\d{6,8}$/.test(code)) return this.checkTotp(user, code);
    const [, used] = await this.dataSource.query(
      `UPDATE mfa_recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`,
      [user.id, hashRecoveryCode(code), this.clock.now()],
    );
    this.metrics.otpVerification('recovery_code', used === 1 ? 'success' : 'failure');
    return used === 1 ? 'accepted' : 'wrong';
  }

  private async checkTotp(user: UserWithSecrets, code: string): Promise<MfaCodeVerdict> {
    if (!user.mfaSecret) return 'wrong';
    const result = verifyTotp({
      secret: this.cipher.decrypt(user.mfaSecret),
      ...MFA_TOTP,
      code,
      now: this.clock.now().getTime(),
      afterStep: user.mfaLastStep === null ? null : Number(user.mfaLastStep),
    });
    // The conditional update makes the step single-use even against concurrent logins.
    const accepted = result.valid && (await this.users.claimMfaStep(user.id, result.step));
    const replayed = result.valid ? !accepted : result.reason === 'replay';
    this.metrics.otpVerification('mfa', accepted ? 'success' : replayed ? 'replay' : 'failure');
    return accepted ? 'accepted' : replayed ? 'replay' : 'wrong';
  }

  private record(manager: EntityManager, userId: string, action: string, status: 'success' | 'failure' = 'success') {
    return this.audit.record(
      { actorType: 'user', actorId: userId, action, resource: 'user', resourceId: userId, status },
      manager,
    );
  }
}

/** 10 base32 characters (50 bits) shown as XXXXX-XXXXX. */
function newRecoveryCode(): string {
  const text = encodeBase32(randomSecret(16)).slice(0, 10);
  return `${text.slice(0, 5)}-${text.slice(5)}`;
}

function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(code.replace('-', '').toUpperCase()).digest('hex');
}
