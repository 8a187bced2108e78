import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { AuditActorType } from '#src/audit/audit-log.entity.js';
import { UsageKey } from './usage-key.entity.js';

/** What happened when someone asked a key for a code. */
export type UsageKeyOutcome = 'used' | 'depleted' | 'expired';
export const USAGE_KEY_OUTCOMES: readonly UsageKeyOutcome[] = ['used', 'depleted', 'expired'];

/** One use of a usage-limited key, or one refused attempt: who, when, from where, and how it went. */
@Entity({ name: 'usage_key_events' })
@Index('IDX_usage_key_events_key', ['keyId', 'id'])
@Index('IDX_usage_key_events_created', ['createdAt'])
export class UsageKeyEvent {
  /** bigint: the pg driver returns it as a string. */
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  /** Deleting a key deletes its history (the audit log keeps the record of every use). */
  @ManyToOne(() => UsageKey, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'key_id', foreignKeyConstraintName: 'FK_usage_key_events_key' })
  key?: UsageKey;

  @Column({ name: 'key_id', type: 'uuid' })
  keyId: string;

  @Column({ type: 'varchar', length: 16 })
  outcome: UsageKeyOutcome;

  @Column({ name: 'actor_type', type: 'varchar', length: 16 })
  actorType: AuditActorType;

  @Column({ name: 'actor_id', type: 'varchar', length: 128, nullable: true })
  actorId: string | null;

  /** usage_count after this event (for a refusal: the count that caused it). */
  @Column({ name: 'usage_count', type: 'integer' })
  usageCount: number;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
