import { base32SecretProblem, decodeBase32 } from '#src/otp/base32.js';
import {
  MAX_DIGITS,
  MAX_PERIOD,
  MIN_DIGITS,
  MIN_PERIOD,
  OTP_ALGORITHMS,
  type OtpAlgorithm,
} from '#src/otp/otp-engine.js';
import { UNLIMITED } from './usage-key.entity.js';

/** Pure rules of usage-limited keys: names, secrets, limits, and the reference file format. */

export const KEY_NAME_PATTERN = /^[A-Za-z0-9._:@-]+$/;
export const KEY_NAME_MAX_LENGTH = 100;

export type KeyState = 'active' | 'depleted' | 'expired';

export interface KeyCounters {
  maxUses: number;
  usageCount: number;
  expiresAt: Date | null;
}

export function remainingUses({
  maxUses,
  usageCount,
}: Pick<KeyCounters, 'maxUses' | 'usageCount'>): number | 'unlimited' {
  return maxUses === UNLIMITED ? 'unlimited' : Math.max(0, maxUses - usageCount);
}

/** Expiry wins over depletion: an expired key is "expired" whatever its count. */
export function keyState(key: KeyCounters, now: Date): KeyState {
  if (key.expiresAt && key.expiresAt.getTime() <= now.getTime()) return 'expired';
  if (key.maxUses !== UNLIMITED && key.usageCount >= key.maxUses) return 'depleted';
  return 'active';
}

export function isValidKeyName(name: unknown): name is string {
  return (
    typeof name === 'string' && name.length >= 1 && name.length <= KEY_NAME_MAX_LENGTH && KEY_NAME_PATTERN.test(name)
  );
}

/** The largest limit: `max_uses` is an integer column. */
export const MAX_USES_LIMIT = 2_147_483_647;

export function isMaxUses(value: unknown): value is number {
  return (
    Number.isSafeInteger(value) &&
    ((value as number) === UNLIMITED || ((value as number) >= 1 && (value as number) <= MAX_USES_LIMIT))
  );
}

/**
 * A timestamp from the reference file. Its writer used naive ISO strings
 * (`2025-01-15T10:30:00.123456`, no zone): those are read as UTC. Fractions beyond
 * milliseconds are dropped.
 */
export function parseReferenceTime(value: unknown): Date | null | undefined {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') return undefined;
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(value.trim());
  if (!match) return undefined;
  const [, date, time, fraction = '', zone = 'Z'] = match;
  const parsed = new Date(`${date}T${time.length === 5 ? `${time}:00` : time}${fraction.slice(0, 4)}${zone}`);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

/** One entry of the reference file, checked. */
export interface ImportEntry {
  name: string;
  secret: Buffer;
  maxUses: number;
  usageCount: number;
  createdAt: Date | null;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  algorithm: OtpAlgorithm;
  digits: number;
  period: number;
}

const ENTRY_FIELDS = new Set([
  'secret',
  'max_uses',
  'usage_count',
  'created_at',
  'last_used',
  'expires_at',
  'algorithm',
  'digits',
  'period',
]);

/** Checks one `NAME: {...}` entry; answers the entry or the list of what is wrong with it. */
export function parseImportEntry(name: string, raw: unknown): { entry: ImportEntry } | { errors: string[] } {
  const errors: string[] = [];
  if (!isValidKeyName(name)) {
    errors.push(`name must be 1-${KEY_NAME_MAX_LENGTH} letters, digits, dot, dash, underscore, colon or @`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { errors: [...errors, 'entry must be an object'] };
  }
  const fields = raw as Record<string, unknown>;
  for (const field of Object.keys(fields)) {
    if (!ENTRY_FIELDS.has(field)) errors.push(`${field} is not a known field`);
  }
  const problem = base32SecretProblem(fields.secret);
  if (fields.secret === undefined) errors.push('secret is required');
  else if (problem) errors.push(`secret ${problem}`);
  const maxUses = fields.max_uses ?? 1;
  if (!isMaxUses(maxUses)) {
    errors.push(`max_uses must be -1 (unlimited) or a whole number from 1 to ${MAX_USES_LIMIT}`);
  }
  const usageCount = fields.usage_count ?? 0;
  if (!Number.isSafeInteger(usageCount) || (usageCount as number) < 0 || (usageCount as number) > 2 ** 31 - 1) {
    errors.push('usage_count must be a whole number from 0 to 2147483647');
  }
  const createdAt = parseReferenceTime(fields.created_at);
  if (createdAt === undefined) errors.push('created_at must be an ISO 8601 timestamp');
  const lastUsedAt = parseReferenceTime(fields.last_used);
  if (lastUsedAt === undefined) errors.push('last_used must be an ISO 8601 timestamp or null');
  const expiresAt = parseReferenceTime(fields.expires_at);
  if (expiresAt === undefined) errors.push('expires_at must be an ISO 8601 timestamp or null');
  const algorithm = fields.algorithm ?? 'sha1';
  if (!(OTP_ALGORITHMS as readonly unknown[]).includes(algorithm)) {
    errors.push(`algorithm must be one of ${OTP_ALGORITHMS.join(', ')}`);
  }
  const digits = fields.digits ?? 6;
  if (!Number.isInteger(digits) || (digits as number) < MIN_DIGITS || (digits as number) > MAX_DIGITS) {
    errors.push(`digits must be a whole number from ${MIN_DIGITS} to ${MAX_DIGITS}`);
  }
  const period = fields.period ?? 30;
  if (!Number.isInteger(period) || (period as number) < MIN_PERIOD || (period as number) > MAX_PERIOD) {
    errors.push(`period must be a whole number from ${MIN_PERIOD} to ${MAX_PERIOD}`);
  }
  if (errors.length > 0) return { errors };
  return {
    entry: {
      name,
      secret: decodeBase32(fields.secret as string),
      maxUses: maxUses as number,
      usageCount: usageCount as number,
      createdAt: createdAt ?? null,
      lastUsedAt: lastUsedAt ?? null,
      expiresAt: expiresAt ?? null,
      algorithm: algorithm as OtpAlgorithm,
      digits: digits as number,
      period: period as number,
    },
  };
}
