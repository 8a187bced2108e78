import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { OtpAlgorithm } from '#src/otp/otp-engine.js';

/** `max_uses` value meaning "no limit". */
export const UNLIMITED = -1;

/**
 * A named TOTP secret that yields codes a limited number of times (`max_uses`, or -1 for
 * unlimited). `usage_count` only ever moves through one atomic UPDATE, so concurrent
 * callers never exceed the limit. The secret is encrypted at rest and never selected by default.
 * Every key has one owner: an API client, or the admin space.
 */
@Entity({ name: 'usage_keys' })
@Check('CHK_usage_keys_max_uses', `"max_uses" = -1 OR "max_uses" >= 1`)
@Check('CHK_usage_keys_usage_count', `"usage_count" >= 0`)
/** Unique per owner (a unique index on name, coalesce(client_id, '')). */
@Index('UQ_usage_keys_owner_name', { synchronize: false })
@Index('IDX_usage_keys_client_name', ['clientId', 'name'])
export class UsageKey {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Chosen by the caller; the key is addressed by it within its owner's space. Case-sensitive. */
  @Column({ type: 'varchar', length: 100 })
  name: string;

  /** The owner: the API client (`client_id` of its API keys) that made it; null = the admin space. */
  @Column({ name: 'client_id', type: 'varchar', length: 100, nullable: true })
  clientId: string | null;

  /** SecretCipher token of the raw secret bytes. */
  @Column({ type: 'text', select: false })
  secret: string;

  @Column({ type: 'varchar', length: 8, default: 'sha1' })
  algorithm: OtpAlgorithm;

  @Column({ type: 'smallint', default: 6 })
  digits: number;

  @Column({ type: 'integer', default: 30 })
  period: number;

  @Column({ name: 'max_uses', type: 'integer', default: 1 })
  maxUses: number;

  @Column({ name: 'usage_count', type: 'integer', default: 0 })
  usageCount: number;

  /** After this the key yields no codes (temporary access); null = never expires. */
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  /** The administrator or API key that created it; null when made by the command line. */
  @Column({ name: 'created_by', type: 'varchar', length: 128, nullable: true })
  createdBy: string | null;

  /** A plain column (not CreateDateColumn) so an import can keep the original creation time. */
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
