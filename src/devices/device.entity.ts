import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An end-user device an enterprise client registered. Its key is derived from the master
 * secret (version `keyVersion`), never stored: only its SHA-256 is kept, to detect a
 * master secret that no longer matches.
 */
@Entity({ name: 'devices' })
@Check('CHK_devices_key_version', `"key_version" >= 1 AND "key_generation" >= 0`)
@Index('UQ_devices_client_device', ['clientId', 'deviceId'], { unique: true })
@Index('IDX_devices_client_user', ['clientId', 'userId'])
export class Device {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** The owning API client (tenant). */
  @Column({ name: 'client_id', type: 'varchar', length: 100 })
  clientId: string;

  /** The client's name for the device, unique per client. */
  @Column({ name: 'device_id', type: 'varchar', length: 128 })
  deviceId: string;

  /** The client's end-user id. */
  @Column({ name: 'user_id', type: 'varchar', length: 128 })
  userId: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  label: string | null;

  /** The master secret version the key is derived from. */
  @Column({ name: 'key_version', type: 'integer' })
  keyVersion: number;

  /** 0 until the first re-key; part of the derivation input from then on. */
  @Column({ name: 'key_generation', type: 'integer', default: 0 })
  keyGeneration: number;

  /** SHA-256 (hex) of the derived key. */
  @Column({ name: 'derived_key_hash', type: 'char', length: 64, select: false })
  derivedKeyHash: string;

  @Column({ name: 'is_active', type: 'boolean', default: true })
  isActive: boolean;

  /** First successful verification (of the current key). */
  @Column({ name: 'verified_at', type: 'timestamptz', nullable: true })
  verifiedAt: Date | null;

  /** Replay guard: the last accepted TOTP step; it and earlier steps are refused. */
  @Column({ name: 'last_used_step', type: 'bigint', nullable: true })
  lastUsedStep: string | null;

  /** Successful verifications. */
  @Column({ name: 'usage_count', type: 'bigint', default: 0 })
  usageCount: string;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  /** Consecutive failed verifications since the last success or lock. */
  @Column({ name: 'failed_attempts', type: 'integer', default: 0 })
  failedAttempts: number;

  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil: Date | null;

  @Column({ name: 'deactivated_at', type: 'timestamptz', nullable: true })
  deactivatedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
