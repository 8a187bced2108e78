import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type AuditActorType = 'user' | 'api_key' | 'system' | 'anonymous';
export type AuditStatus = 'success' | 'failure';

/**
 * Append-only record of a security-relevant action. Rows are inserted unsealed; the
 * sealer later assigns `seq` and links `prev_hash` → `hash` so writers never wait on
 * each other. Never holds secrets or OTP codes.
 */
@Entity({ name: 'audit_logs' })
@Index('IDX_audit_logs_unsealed', ['id'], { where: 'hash IS NULL' })
// Query filters (each with created_at, the order of every listing) and retention.
@Index('IDX_audit_logs_created', ['createdAt', 'id'])
@Index('IDX_audit_logs_action_created', ['action', 'createdAt'])
@Index('IDX_audit_logs_action_status_created', ['action', 'status', 'createdAt'])
@Index('IDX_audit_logs_actor_type_created', ['actorType', 'createdAt'])
@Index('IDX_audit_logs_actor_id_created', ['actorId', 'createdAt'])
@Index('IDX_audit_logs_resource_created', ['resource', 'resourceId', 'createdAt'])
@Index('IDX_audit_logs_status_created', ['status', 'createdAt'])
@Index('IDX_audit_logs_ip_created', ['ip', 'createdAt'])
export class AuditLog {
  /** bigint: the pg driver returns it as a string. */
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'actor_type', type: 'varchar', length: 16 })
  actorType: AuditActorType;

  @Column({ name: 'actor_id', type: 'varchar', length: 128, nullable: true })
  actorId: string | null;

  @Column({ type: 'varchar', length: 64 })
  action: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  resource: string | null;

  @Column({ name: 'resource_id', type: 'varchar', length: 128, nullable: true })
  resourceId: string | null;

  @Column({ type: 'varchar', length: 16 })
  status: AuditStatus;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  details: Record<string, unknown>;

  /** Position in the hash chain; null until sealed. */
  @Index('UQ_audit_logs_seq', { unique: true })
  @Column({ type: 'bigint', nullable: true })
  seq: string | null;

  @Column({ name: 'prev_hash', type: 'char', length: 64, nullable: true })
  prevHash: string | null;

  @Column({ type: 'char', length: 64, nullable: true })
  hash: string | null;
}
