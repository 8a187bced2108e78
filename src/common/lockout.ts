import { HttpStatus } from '@nestjs/common';
import { ProblemException } from './problem.js';

/**
 * The one lock rule of the service, for accounts, OTP configurations and devices alike:
 * `maxFailures` consecutive failures lock the credential for `lockMinutes`; while locked it
 * answers 423 (with `Retry-After`) and nothing is checked; when the lock lapses the count
 * starts again from zero; a success resets the count.
 *
 * The rule is applied in SQL, in the one statement that also gives the verdict: a failure is
 * counted (and the lock set) only where the credential is not locked, so however many guesses
 * arrive at once, no more than `maxFailures` of them are answered "wrong" per lock window.
 */
export interface LockRule {
  /** Consecutive failures that lock. */
  readonly maxFailures: number;
  /** How long a lock lasts. */
  readonly lockMinutes: number;
}

/** A credential's failure count and lock end, as stored. */
export interface LockState {
  readonly failures: number;
  readonly lockedUntil: Date | null;
}

/** What a counting statement returns (`RETURNING ${sql.returning}`) for the row it counted. */
export interface CountedRow {
  failures: number;
  locked_until: Date | null;
}

/** Where a statement keeps a credential's lock, and the placeholders it binds the rule's values to. */
export interface LockSqlOptions {
  /** The failure-count column. */
  failures: string;
  /** The lock-end column. */
  lockedUntil: string;
  /** Qualifier for reading the columns (needed in `ON CONFLICT DO UPDATE`, where bare names are ambiguous). */
  table?: string;
  /** Placeholder of the server's current time. */
  now: string;
  /** Placeholder of `maxFailures`, for counting. */
  maxFailures?: string;
  /** Placeholder of the lock end a failure reaching the limit sets (`lockEnd`), for counting. */
  lockUntil?: string;
}

/** The rule as SQL fragments over one table's columns. */
export interface LockSql {
  /** WHERE condition: the credential is not locked now. */
  notLocked: string;
  /** SET list for a failure: the count (from 1 again after a lapsed lock) and the lock at the limit. */
  countFailure: string;
  /** SET list for a success: no failures, no lock. */
  reset: string;
  /** RETURNING list read by `countedOutcome`. */
  returning: string;
}

export function lockSql(options: LockSqlOptions): LockSql {
  const read = (column: string): string => (options.table ? `${options.table}.${column}` : column);
  const failures = read(options.failures);
  const lockedUntil = read(options.lockedUntil);
  const now = `${options.now}::timestamptz`;
  const next = `(CASE WHEN ${lockedUntil} <= ${now} THEN 1 ELSE ${failures} + 1 END)`;
  const countFailure =
    options.maxFailures && options.lockUntil
      ? `${options.failures} = ${next}, ${options.lockedUntil} = CASE WHEN ${next} >= ${options.maxFailures}::int ` +
        `THEN ${options.lockUntil}::timestamptz ELSE NULL END`
      : '';
  return {
    notLocked: `(${lockedUntil} IS NULL OR ${lockedUntil} <= ${now})`,
    countFailure,
    reset: `${options.failures} = 0, ${options.lockedUntil} = NULL`,
    returning: `${options.failures} AS failures, ${options.lockedUntil} AS locked_until`,
  };
}

/** The same rule in plain code (what the SQL does to one row): the state after a failure, or null while locked. */
export function afterFailure(state: LockState, rule: LockRule, now: Date): LockState | null {
  if (isLocked(state.lockedUntil, now)) return null;
  const lapsed = state.lockedUntil !== null;
  const failures = lapsed ? 1 : state.failures + 1;
  return { failures, lockedUntil: failures >= rule.maxFailures ? lockEnd(rule, now) : null };
}

export function isLocked(lockedUntil: Date | null | undefined, now: Date): lockedUntil is Date {
  return lockedUntil !== null && lockedUntil !== undefined && lockedUntil > now;
}

/** When a lock set now ends. */
export function lockEnd(rule: LockRule, now: Date): Date {
  return new Date(now.getTime() + rule.lockMinutes * 60_000);
}

/** Whole seconds until the lock ends, at least 1 (the `Retry-After` value). */
export function retryAfterSeconds(lockedUntil: Date, now: Date): number {
  return Math.max(1, Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000));
}

/**
 * What a counting statement's rows mean: none, the credential was locked (answer 423, the
 * guess was not evaluated); one, the failure counted (answer "wrong"), and `lockedNow` when
 * it reached the limit (audit the lock).
 */
export function countedOutcome(
  row: CountedRow | undefined,
): { counted: false } | { counted: true; failures: number; lockedNow: boolean; lockedUntil: Date | null } {
  if (!row) return { counted: false };
  return { counted: true, failures: row.failures, lockedNow: row.locked_until !== null, lockedUntil: row.locked_until };
}

/**
 * The 423 answer of a locked credential: `locked_until` and `retry_after` (seconds) in the
 * problem, and the problem-details filter turns `retry_after` into the `Retry-After` header.
 */
export function lockedProblem(code: string, detail: string, lockedUntil: Date, now: Date): ProblemException {
  const retryAfter = retryAfterSeconds(lockedUntil, now);
  return new ProblemException(HttpStatus.LOCKED, code, `${detail} Try again in ${retryAfter} seconds.`, {
    locked_until: lockedUntil.toISOString(),
    retry_after: retryAfter,
  });
}
