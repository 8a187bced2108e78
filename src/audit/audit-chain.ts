import { createHash } from 'node:crypto';

/** The fields a chain link covers: everything an attacker might want to change. */
export interface ChainedAuditRow {
  id: string;
  seq: string;
  createdAt: Date;
  actorType: string;
  actorId: string | null;
  action: string;
  resource: string | null;
  resourceId: string | null;
  status: string;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: unknown;
}

/** The hash that precedes the first row of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** SHA-256 over a canonical encoding of the row and the previous link. */
export function auditRowHash(row: ChainedAuditRow, prevHash: string): string {
  const payload = canonicalJson([
    row.seq,
    row.id,
    row.createdAt.toISOString(),
    row.actorType,
    row.actorId,
    row.action,
    row.resource,
    row.resourceId,
    row.status,
    row.ip,
    row.userAgent,
    row.requestId,
    row.details ?? {},
    prevHash,
  ]);
  return createHash('sha256').update(payload).digest('hex');
}

/** JSON with object keys sorted, so jsonb's own key order cannot change a hash. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
