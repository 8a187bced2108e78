import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '#src/common/clock.js';
import type { Page } from '#src/common/pagination.dto.js';
import { AuditRecordView, csvHeader, csvRow, ExportFormat, ndjsonRow } from './audit-export.js';
import type { AuditFilterDto, AuditHourDto, AuditLogQueryDto, AuditTimelineDto } from './dto/audit.dto.js';

/** Rows per query while exporting: memory stays at about one batch whatever the export's size. */
const EXPORT_BATCH = 1000;
const EXPORT_CHUNK_CHARS = 32_768;
const HOUR_MS = 3_600_000;

const COLUMNS = `id, created_at, actor_type, actor_id, action, resource, resource_id, status, ip, user_agent,
  request_id, details, seq, prev_hash, hash`;

/** A row as the driver answers it: the view's fields, with the timestamp still a Date. */
type AuditRow = Omit<AuditRecordView, 'created_at'> & { created_at: Date };

/** Equality filters: query field → column (each backed by an index with created_at). */
const EQUALS: ReadonlyArray<[keyof AuditFilterDto, string]> = [
  ['action', 'action'],
  ['actor_type', 'actor_type'],
  ['actor_id', 'actor_id'],
  ['resource', 'resource'],
  ['resource_id', 'resource_id'],
  ['status', 'status'],
  ['ip', 'ip'],
];

/** WHERE conditions for the given filters, ANDed, with their parameters. */
function whereOf(filters: AuditFilterDto, params: unknown[] = []): { conditions: string[]; params: unknown[] } {
  const conditions: string[] = [];
  for (const [field, column] of EQUALS) {
    const value = filters[field];
    if (value !== undefined) {
      params.push(value);
      conditions.push(`${column} = $${params.length}`);
    }
  }
  if (filters.from) {
    params.push(filters.from);
    conditions.push(`created_at >= $${params.length}`);
  }
  if (filters.to) {
    params.push(filters.to);
    conditions.push(`created_at < $${params.length}`);
  }
  return { conditions, params };
}

const whereSql = (conditions: string[]): string => (conditions.length ? `WHERE ${conditions.join(' AND ')}` : '');

function toView(row: AuditRow): AuditRecordView {
  return {
    id: String(row.id),
    created_at: row.created_at.toISOString(),
    actor_type: row.actor_type,
    actor_id: row.actor_id,
    action: row.action,
    resource: row.resource,
    resource_id: row.resource_id,
    status: row.status,
    ip: row.ip,
    user_agent: row.user_agent,
    request_id: row.request_id,
    details: row.details ?? {},
    seq: row.seq === null ? null : String(row.seq),
    prev_hash: row.prev_hash,
    hash: row.hash,
  };
}

/** Read side of the audit trail: filtered pages, the hourly timeline and streamed exports. */
@Injectable()
export class AuditQueryService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /**
   * Records of one action since a time, by status, for a module's own figures: `success`, and
   * `failure` without the failures whose `details.reason` is one of `ignoredReasons`. One statement
   * over the (action, created_at) index.
   */
  async outcomeCounts(
    action: string,
    since: Date,
    ignoredReasons: readonly string[] = [],
  ): Promise<{ success: number; failure: number }> {
    const [row] = await this.dataSource.query<Array<{ success: number; failure: number }>>(
      `SELECT count(*) FILTER (WHERE status = 'success')::int AS success,
              count(*) FILTER (WHERE status = 'failure'
                                 AND NOT coalesce(details->>'reason' = ANY($3::text[]), false))::int AS failure
         FROM audit_logs WHERE action = $1 AND created_at >= $2`,
      [action, since, ignoredReasons],
    );
    return row;
  }

  /** Newest first (created_at, then id), offset-paged with the total of matching rows. */
  async list(query: AuditLogQueryDto): Promise<Page<AuditRecordView>> {
    const { conditions, params } = whereOf(query);
    const where = whereSql(conditions);
    const [rows, [{ total }]] = await Promise.all([
      this.dataSource.query<AuditRow[]>(
        `SELECT ${COLUMNS} FROM audit_logs ${where}
          ORDER BY created_at DESC, id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, query.limit, query.offset],
      ),
      this.dataSource.query<Array<{ total: number }>>(`SELECT count(*)::int AS total FROM audit_logs ${where}`, params),
    ]);
    return { items: rows.map(toView), total, limit: query.limit, offset: query.offset };
  }

  /** Counts per hour by action and status over the last `hours` whole hours (the current one included). */
  async timeline(hours: number): Promise<AuditTimelineDto> {
    const now = this.clock.now();
    const from = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - (hours - 1) * HOUR_MS);
    const rows = await this.dataSource.query<Array<{ hour: Date; action: string; status: string; count: number }>>(
      `SELECT date_bin('1 hour', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS hour, action, status,
              count(*)::int AS count
         FROM audit_logs
        WHERE created_at >= $1 AND created_at <= $2
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3`,
      [from, now],
    );
    const buckets = new Map<number, AuditHourDto>();
    for (let i = 0; i < hours; i++) {
      const start = from.getTime() + i * HOUR_MS;
      buckets.set(start, { hour: new Date(start).toISOString(), total: 0, counts: [] });
    }
    for (const row of rows) {
      const bucket = buckets.get(new Date(row.hour).getTime());
      if (!bucket) continue;
      bucket.total += row.count;
      bucket.counts.push({ action: row.action, status: row.status, count: row.count });
    }
    return { hours, from: from.toISOString(), to: now.toISOString(), buckets: [...buckets.values()] };
  }

  /**
   * The matching records, newest first, as NDJSON or CSV text chunks. Reads in keyset
   * batches (no long transaction, no OFFSET): only one batch is in memory at a time, and
   * the consumer's backpressure decides when the next is read.
   */
  async *export(filters: AuditFilterDto, format: ExportFormat): AsyncGenerator<string> {
    if (format === 'csv') yield csvHeader();
    const line = format === 'csv' ? csvRow : ndjsonRow;
    let cursor: { at: string; id: string } | undefined;
    for (;;) {
      const { conditions, params } = whereOf(filters);
      if (cursor) {
        params.push(cursor.at, cursor.id);
        conditions.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
      }
      params.push(EXPORT_BATCH);
      // created_at travels as text: a JS Date would drop the microseconds the cursor needs.
      const rows = await this.dataSource.query<Array<AuditRow & { cursor_at: string }>>(
        `SELECT ${COLUMNS}, created_at::text AS cursor_at FROM audit_logs ${whereSql(conditions)}
          ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
        params,
      );
      if (rows.length === 0) return;
      // Chunks stay well under V8's large-object size, so they die young instead of piling
      // up in old space until a full collection.
      let chunk = '';
      for (const row of rows) {
        chunk += line(toView(row));
        if (chunk.length >= EXPORT_CHUNK_CHARS) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk) yield chunk;
      if (rows.length < EXPORT_BATCH) return;
      const last = rows[rows.length - 1];
      cursor = { at: last.cursor_at, id: String(last.id) };
    }
  }
}
