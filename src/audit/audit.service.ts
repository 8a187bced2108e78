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
    const audit = this.insertFrom('change', entry, params.length + 1);
    const rows: unknown[] = await manager.query(`WITH change AS (${changeSql}) ${audit.sql} RETURNING id`, [
      ...params,
      ...audit.params,
    ]);
    return rows.length;
  }

  /**
   * The record as SQL, for a caller's own data-modifying WITH: `INSERT INTO audit_logs …
   * SELECT … FROM <source>`, one record per source row, parameters numbered from
   * `firstParam`. `fromRow` takes what only the statement knows from the source row: the
   * resource id, and a jsonb object merged into the details (such as a new count).
   */
  insertFrom(
    source: string,
    entry: AuditEntry,
    firstParam: number,
    fromRow: { resourceId?: string; details?: string } = {},
  ): { sql: string; params: unknown[] } {
    const context = currentRequestContext();
    const params: unknown[] = [];
    const param = (value: unknown, cast = ''): string => {
      params.push(value);
      return `$${firstParam + params.length - 1}${cast}`;
    };
    const details = param(JSON.stringify(entry.details ?? {}), '::jsonb');
    const columns = [
      param(entry.actorType),
      param(entry.actorId ?? null),
      param(entry.action),
      param(entry.resource ?? null),
      fromRow.resourceId ? `(${fromRow.resourceId})::text` : param(entry.resourceId ?? null),
      param(entry.status),
      param(entry.ip ?? context?.ip ?? null),
      param(truncate(entry.userAgent ?? context?.userAgent ?? null, 512)),
      param(entry.requestId ?? context?.requestId ?? null),
      fromRow.details ? `${details} || ${fromRow.details}` : details,
    ];
    return {
      sql: `INSERT INTO audit_logs (actor_type, actor_id, action, resource, resource_id, status, ip, user_agent, request_id, details)
            SELECT ${columns.join(', ')} FROM ${source}`,
      params,
    };
  }
}

function truncate(value: string | null, max: number): string | null {
  return value && value.length > max ? value.slice(0, max) : value;
}
