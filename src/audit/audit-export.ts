/** One audit record as the API answers it (snake_case, timestamps ISO 8601 UTC). */
export interface AuditRecordView {
  id: string;
  created_at: string;
  actor_type: string;
  actor_id: string | null;
  action: string;
  resource: string | null;
  resource_id: string | null;
  status: string;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
  seq: string | null;
  prev_hash: string | null;
  hash: string | null;
}

export type ExportFormat = 'ndjson' | 'csv';

export const CSV_COLUMNS: ReadonlyArray<keyof AuditRecordView> = [
  'id',
  'created_at',
  'actor_type',
  'actor_id',
  'action',
  'resource',
  'resource_id',
  'status',
  'ip',
  'user_agent',
  'request_id',
  'details',
  'seq',
  'prev_hash',
  'hash',
];

/** Cells a spreadsheet would run as a formula (CSV/formula injection) start with one of these. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled.
 * A value that starts like a formula gets a leading apostrophe, so spreadsheets show it as text.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(',') + '\r\n';
}

export function csvRow(record: AuditRecordView): string {
  return CSV_COLUMNS.map((column) => csvCell(record[column])).join(',') + '\r\n';
}

export function ndjsonRow(record: AuditRecordView): string {
  return JSON.stringify(record) + '\n';
}
