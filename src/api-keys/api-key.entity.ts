import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Scopes an API key may hold. */
export const API_KEY_SCOPES = ['devices:write', 'devices:read', 'devices:verify', 'keys:use', 'keys:admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** An enterprise client's credential. Only a hash of the key is stored; the key is shown once. */
@Entity({ name: 'api_keys' })
@Index('IDX_api_keys_client', ['clientId'])
export class ApiKey {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  /** The client (tenant) the key acts for; devices belong to a client. */
  @Column({ name: 'client_id', type: 'varchar', length: 100 })
  clientId: string;

  /** The visible start of the key, to recognise it in lists. */
  @Index('UQ_api_keys_prefix', { unique: true })
  @Column({ type: 'varchar', length: 32 })
  prefix: string;

  /** SHA-256 of the whole key. */
  @Index('UQ_api_keys_key_hash', { unique: true })
  @Column({ name: 'key_hash', type: 'char', length: 64, select: false })
  keyHash: string;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  scopes: ApiKeyScope[];

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'usage_count', type: 'bigint', default: 0 })
  usageCount: string;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
