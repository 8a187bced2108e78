import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type UserRole = 'admin' | 'user';
export const USER_ROLES: readonly UserRole[] = ['admin', 'user'];

/** A person who signs in. Secrets (`password_hash`, `mfa_secret`) are never selected by default. */
@Entity({ name: 'users' })
@Check('CHK_users_role', `"role" IN ('admin', 'user')`)
@Check('CHK_users_access_level', `"access_level" BETWEEN 0 AND 10`)
@Index('UQ_users_username', { synchronize: false })
@Index('UQ_users_email', { synchronize: false })
export class User {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Unique case-insensitively (a unique index on lower(username)). */
  @Column({ type: 'varchar', length: 50 })
  username: string;

  /** Unique case-insensitively (a unique index on lower(email)). */
  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ name: 'password_hash', type: 'varchar', length: 255, select: false })
  passwordHash: string;

  @Column({ type: 'varchar', length: 16, default: 'user' })
  role: UserRole;

  @Column({ name: 'is_active', type: 'boolean', default: true })
  isActive: boolean;

  @Column({ name: 'mfa_enabled', type: 'boolean', default: false })
  mfaEnabled: boolean;

  /** Encrypted TOTP secret; set at enrolment, confirmed by the first code. */
  @Column({ name: 'mfa_secret', type: 'text', nullable: true, select: false })
  mfaSecret: string | null;

  /** Last accepted MFA time step: a code is accepted once (RFC 6238 §5.2). */
  @Column({ name: 'mfa_last_step', type: 'bigint', nullable: true, select: false })
  mfaLastStep: string | null;

  @Column({ name: 'failed_login_attempts', type: 'integer', default: 0 })
  failedLoginAttempts: number;

  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil: Date | null;

  @Column({ name: 'last_login_at', type: 'timestamptz', nullable: true })
  lastLoginAt: Date | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  department: string | null;

  @Column({ name: 'job_title', type: 'varchar', length: 100, nullable: true })
  jobTitle: string | null;

  @Column({ name: 'access_level', type: 'smallint', default: 0 })
  accessLevel: number;

  /** Sessions idle longer than this cannot be refreshed; null = only the absolute expiry applies. */
  @Column({ name: 'session_timeout_minutes', type: 'integer', nullable: true })
  sessionTimeoutMinutes: number | null;

  @Column({ name: 'must_change_password', type: 'boolean', default: false })
  mustChangePassword: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
