import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { currentRequestContext } from '#src/common/request-context.js';
import { SqlParams } from '#src/common/sql.js';
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
   * commit together without the round trips of a transaction. `change` writes the statement
   * with placeholders from the statement's own SqlParams (the record's parameters follow).
   * Answers the rows changed; when none changed, nothing is recorded.
   */
  async recordWithChange(
    change: (params: SqlParams) => string,
    entry: AuditEntry,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<number> {
    const params = new SqlParams();
    const changeSql = change(params);
    const audit = this.insertFrom(params, 'change', entry);
    const rows: unknown[] = await manager.query(`WITH change AS (${changeSql}) ${audit} RETURNING id`, params.values);
    return rows.length;
  }

  /**
   * The record as SQL, for a caller's own data-modifying WITH: `INSERT INTO audit_logs …
   * SELECT … FROM <source>`, one record per source row, its values added to the statement's
   * `params`. `fromRow` takes what only the statement knows from the source row: the
   * resource id, and a jsonb object merged into the details (such as a new count).
   */
  insertFrom(
    params: SqlParams,
    source: string,
    entry: AuditEntry,
    fromRow: { resourceId?: string; details?: string } = {},
  ): string {
    const context = currentRequestContext();
    const details = params.add(JSON.stringify(entry.details ?? {}), '::jsonb');
    const columns = [
      params.add(entry.actorType),
      params.add(entry.actorId ?? null),
      params.add(entry.action),
      params.add(entry.resource ?? null),
      fromRow.resourceId ? `(${fromRow.resourceId})::text` : params.add(entry.resourceId ?? null),
      params.add(entry.status),
      params.add(entry.ip ?? context?.ip ?? null),
      params.add(truncate(entry.userAgent ?? context?.userAgent ?? null, 512)),
      params.add(entry.requestId ?? context?.requestId ?? null),
      fromRow.details ? `${details} || ${fromRow.details}` : details,
    ];
    return `INSERT INTO audit_logs (actor_type, actor_id, action, resource, resource_id, status, ip, user_agent, request_id, details)
            SELECT ${columns.join(', ')} FROM ${source}`;
  }
}

function truncate(value: string | null, max: number): string | null {
  return value && value.length > max ? value.slice(0, max) : value;
}
