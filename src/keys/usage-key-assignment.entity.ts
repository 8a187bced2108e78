import { Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { User } from '#src/users/user.entity.js';
import { UsageKey } from './usage-key.entity.js';

/**
 * An admin-space key handed to a person, who may then use it (code, validate, info). Goes
 * with the key or the person when either is deleted.
 */
@Entity({ name: 'usage_key_assignments' })
@Index('IDX_usage_key_assignments_user', ['userId'])
export class UsageKeyAssignment {
  @PrimaryColumn({ name: 'key_id', type: 'uuid', primaryKeyConstraintName: 'PK_usage_key_assignments' })
  keyId: string;

  @PrimaryColumn({ name: 'user_id', type: 'uuid', primaryKeyConstraintName: 'PK_usage_key_assignments' })
  userId: string;

  @ManyToOne(() => UsageKey, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'key_id', foreignKeyConstraintName: 'FK_usage_key_assignments_key' })
  key?: UsageKey;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_usage_key_assignments_user' })
  user?: User;
}
