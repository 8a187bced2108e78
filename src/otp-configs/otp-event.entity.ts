import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '#src/users/user.entity.js';
import { OtpConfig } from './otp-config.entity.js';

export type OtpEventType = 'generate' | 'validate_success' | 'validate_failure';

/** One generation or validation. Codes are never stored. */
@Entity({ name: 'otp_events' })
@Check('CHK_otp_events_type', `"event_type" IN ('generate', 'validate_success', 'validate_failure')`)
@Index('IDX_otp_events_user_created', ['userId', 'createdAt'])
@Index('IDX_otp_events_config', ['configId'])
@Index('IDX_otp_events_created', ['createdAt'])
@Index('IDX_otp_events_type_created', ['eventType', 'createdAt'])
export class OtpEvent {
  /** bigint: the pg driver returns it as a string. */
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'BY DEFAULT' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_otp_events_user' })
  user?: User;

  /** Kept (as null) when the configuration is deleted, so statistics survive it. */
  @Column({ name: 'config_id', type: 'uuid', nullable: true })
  configId: string | null;

  @ManyToOne(() => OtpConfig, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'config_id', foreignKeyConstraintName: 'FK_otp_events_config' })
  config?: OtpConfig;

  @Column({ name: 'event_type', type: 'varchar', length: 20 })
  eventType: OtpEventType;

  /** Matched step offset (TOTP) or counters skipped (HOTP), on success. */
  @Column({ type: 'smallint', nullable: true })
  drift: number | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
