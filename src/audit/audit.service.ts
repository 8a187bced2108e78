import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { currentRequestContext } from '#src/common/request-context.js';
import { AuditActorType, AuditLog, AuditStatus } from './audit-log.entity.js';

export interface AuditEntry {
  actorType: AuditActorType;
  actorId?: string | null;
  action: string;
  resource?: string | null;
  resourceId?: string | null;
  status: AuditStatus;
  /** Context; taken from the current request when omitted. Never secrets or OTP codes. */
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

@Injectable()
export class AuditService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Appends a record. Pass the caller's transaction manager so the record commits or
   * rolls back with the change it describes.
   */
  async record(entry: AuditEntry, manager: EntityManager = this.dataSource.manager): Promise<void> {
    const context = currentRequestContext();
    await manager.insert(AuditLog, {
      actorType: entry.actorType,
      actorId: entry.actorId ?? null,
      action: entry.action,
      resource: entry.resource ?? null,
      resourceId: entry.resourceId ?? null,
      status: entry.status,
      ip: entry.ip ?? context?.ip ?? null,
      userAgent: truncate(entry.userAgent ?? context?.userAgent ?? null, 512),
      requestId: entry.requestId ?? context?.requestId ?? null,
      details: (entry.details ?? {}) as AuditLog['details'] & object,
    });
  }

  /**
   * Runs one data-changing statement (`UPDATE … RETURNING …`, no WITH of its own) and appends
   * the record for each row it returns, in the same statement: the change and its record
   * commit together without the round trips of a transaction. Answers the rows changed;
   * when none changed, nothing is recorded.
   */
  async recordWithChange(
    changeSql: string,
    params: readonly unknown[],
    entry: AuditEntry,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<number> {
    const context = currentRequestContext();
    const values = [
      entry.actorType,
      entry.actorId ?? null,
      entry.action,
      entry.resource ?? null,
      entry.resourceId ?? null,
      entry.status,
      entry.ip ?? context?.ip ?? null,
      truncate(entry.userAgent ?? context?.userAgent ?? null, 512),
      entry.requestId ?? context?.requestId ?? null,
      JSON.stringify(entry.details ?? {}),
    ];
    const at = (i: number): string => `$${params.length + i + 1}`;
    const rows: unknown[] = await manager.query(
      `WITH change AS (${changeSql})
       INSERT INTO audit_logs (actor_type, actor_id, action, resource, resource_id, status, ip, user_agent, request_id, details)
       SELECT ${values.map((_, i) => (i === values.length - 1 ? `${at(i)}::jsonb` : at(i))).join(', ')} FROM change
       RETURNING id`,
      [...params, ...values],
    );
    return rows.length;
  }
}

function truncate(value: string | null, max: number): string | null {
  return value && value.length > max ? value.slice(0, max) : value;
}
