import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Where the kept audit chain starts after retention removed older rows: the last removed
 * chain position and its hash. Verification resumes from the newest anchor instead of the
 * genesis hash, so pruning never looks like tampering, while any change to a kept row does.
 */
@Entity({ name: 'audit_anchors' })
export class AuditAnchor {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** Every chain position up to and including this one was removed. */
  @Index('UQ_audit_anchors_seq', { unique: true })
  @Column({ name: 'pruned_through_seq', type: 'bigint' })
  prunedThroughSeq: string;

  /** The hash of the row at `prunedThroughSeq`: the `prev_hash` the first kept row must carry. */
  @Column({ name: 'pruned_through_hash', type: 'char', length: 64 })
  prunedThroughHash: string;

  /** Rows removed by the run that wrote this anchor. */
  @Column({ name: 'pruned_rows', type: 'bigint' })
  prunedRows: string;

  /** Rows created before this instant were due for removal. */
  @Column({ type: 'timestamptz' })
  cutoff: Date;
}
