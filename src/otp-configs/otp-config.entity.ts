import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { User } from '#src/users/user.entity.js';
import type { OtpAlgorithm, OtpDigits } from '#src/otp/otp-engine.js';
import type { OtpType } from '#src/otp/otpauth-uri.js';

/** One authenticator account of a person. The secret is encrypted and never selected by default. */
@Entity({ name: 'otp_configs' })
@Check('CHK_otp_configs_type', `"otp_type" IN ('totp', 'hotp')`)
@Check('CHK_otp_configs_algorithm', `"algorithm" IN ('sha1', 'sha256', 'sha512')`)
@Check('CHK_otp_configs_digits', `"digits" BETWEEN 6 AND 8`)
@Check(
  'CHK_otp_configs_shape',
  `("otp_type" = 'totp' AND "period" BETWEEN 10 AND 300 AND "counter" IS NULL)
          OR ("otp_type" = 'hotp' AND "period" IS NULL AND "counter" >= 0)`,
)
/** Unique per owner, case-insensitively (a unique index on owner_id, lower(name)). */
@Index('UQ_otp_configs_owner_name', { synchronize: false })
@Index('IDX_otp_configs_owner_created', ['ownerId', 'createdAt'])
export class OtpConfig {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'owner_id', type: 'uuid' })
  ownerId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'owner_id', foreignKeyConstraintName: 'FK_otp_configs_owner' })
  owner?: User;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ name: 'otp_type', type: 'varchar', length: 4 })
  otpType: OtpType;

  @Column({ type: 'varchar', length: 6, default: 'sha1' })
  algorithm: OtpAlgorithm;

  @Column({ type: 'smallint', default: 6 })
  digits: OtpDigits;

  /** TOTP step in seconds; null for HOTP. */
  @Column({ type: 'smallint', nullable: true })
  period: number | null;

  /** HOTP: the counter of the next code; null for TOTP. bigint, so a string from the driver. */
  @Column({ type: 'bigint', nullable: true })
  counter: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  issuer: string | null;

  @Column({ name: 'account_name', type: 'varchar', length: 100, nullable: true })
  accountName: string | null;

  /** SecretCipher ciphertext of the raw secret bytes. */
  @Column({ type: 'text', select: false })
  secret: string;

  @Column({ name: 'is_active', type: 'boolean', default: true })
  isActive: boolean;

  /** TOTP replay guard: the last accepted time step. */
  @Column({ name: 'last_used_step', type: 'bigint', nullable: true })
  lastUsedStep: string | null;

  @Column({ name: 'failed_attempts', type: 'integer', default: 0 })
  failedAttempts: number;

  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

export type OtpConfigWithSecret = OtpConfig & { secret: string };
