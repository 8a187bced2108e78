import { HttpStatus } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import {
  afterFailure,
  countedOutcome,
  isLocked,
  lockedProblem,
  lockEnd,
  lockSql,
  retryAfterSeconds,
} from './lockout.js';
import type { LockState } from './lockout.js';

const RULE = { maxFailures: 3, lockMinutes: 15 };
const T0 = new Date('2026-01-01T00:00:00Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);

describe('afterFailure (the lock rule in plain code)', () => {
  const fail = (state: LockState, now: Date) => afterFailure(state, RULE, now);
  const fresh: LockState = { failures: 0, lockedUntil: null };

  it('counts consecutive failures and locks for lockMinutes at the limit', () => {
    const one = fail(fresh, T0)!;
    const two = fail(one, T0)!;
    expect([one, two]).toEqual([
      { failures: 1, lockedUntil: null },
      { failures: 2, lockedUntil: null },
    ]);
    expect(fail(two, T0)).toEqual({ failures: 3, lockedUntil: at(15) });
  });

  it('refuses to count while locked: the guess is not evaluated', () => {
    const locked = { failures: 3, lockedUntil: at(15) };
    expect(fail(locked, at(14.99))).toBeNull();
  });

  it('starts again from zero when the lock lapses: the first failure after it counts as 1', () => {
    const lapsed = { failures: 3, lockedUntil: at(15) };
    const first = fail(lapsed, at(15))!;
    expect(first).toEqual({ failures: 1, lockedUntil: null });
    expect(fail(fail(first, at(16))!, at(16))).toEqual({ failures: 3, lockedUntil: at(31) });
  });

  it('locks at the first failure when the limit is 1', () => {
    expect(afterFailure(fresh, { maxFailures: 1, lockMinutes: 1 }, T0)).toEqual({ failures: 1, lockedUntil: at(1) });
  });
});

describe('lock helpers', () => {
  it('isLocked: only a lock end in the future locks', () => {
    expect(isLocked(null, T0)).toBe(false);
    expect(isLocked(undefined, T0)).toBe(false);
    expect(isLocked(T0, T0)).toBe(false);
    expect(isLocked(at(1), T0)).toBe(true);
  });

  it('lockEnd and retryAfterSeconds: whole seconds, rounded up, at least 1', () => {
    expect(lockEnd(RULE, T0)).toEqual(at(15));
    expect(retryAfterSeconds(at(15), T0)).toBe(900);
    expect(retryAfterSeconds(new Date(T0.getTime() + 1_001), T0)).toBe(2);
    expect(retryAfterSeconds(T0, T0)).toBe(1);
  });

  it('countedOutcome: no row means locked (not counted); a row with a lock end means it locked now', () => {
    expect(countedOutcome(undefined)).toEqual({ counted: false });
    expect(countedOutcome({ failures: 2, locked_until: null })).toEqual({
      counted: true,
      failures: 2,
      lockedNow: false,
      lockedUntil: null,
    });
    expect(countedOutcome({ failures: 3, locked_until: at(15) })).toMatchObject({ counted: true, lockedNow: true });
  });

  it('lockedProblem: 423 with the code, locked_until and retry_after (which the filter sends as Retry-After)', () => {
    const problem = lockedProblem('DEVICE_LOCKED', 'Locked.', at(15), T0);
    expect(problem.getStatus()).toBe(HttpStatus.LOCKED);
    expect(problem.code).toBe('DEVICE_LOCKED');
    expect(problem.message).toBe('Locked. Try again in 900 seconds.');
    expect(problem.extensions).toEqual({ locked_until: at(15).toISOString(), retry_after: 900 });
  });
});

describe('lockSql (the lock rule as SQL)', () => {
  const sql = lockSql({
    failures: 'failed_attempts',
    lockedUntil: 'locked_until',
    now: '$2',
    maxFailures: '$3',
    lockUntil: '$4',
  });

  it('counts from 1 after a lapsed lock, locks at the limit and clears a lapsed lock otherwise', () => {
    expect(sql.countFailure).toBe(
      'failed_attempts = (CASE WHEN locked_until <= $2::timestamptz THEN 1 ELSE failed_attempts + 1 END), ' +
        'locked_until = CASE WHEN (CASE WHEN locked_until <= $2::timestamptz THEN 1 ELSE failed_attempts + 1 END) ' +
        '>= $3::int THEN $4::timestamptz ELSE NULL END',
    );
    expect(sql.notLocked).toBe('(locked_until IS NULL OR locked_until <= $2::timestamptz)');
    expect(sql.reset).toBe('failed_attempts = 0, locked_until = NULL');
    expect(sql.returning).toBe('failed_attempts AS failures, locked_until AS locked_until');
  });

  it('reads qualified columns where asked (ON CONFLICT DO UPDATE) but assigns bare ones', () => {
    const qualified = lockSql({
      failures: 'n',
      lockedUntil: 'until',
      table: 'f',
      now: '$1',
      maxFailures: '$2',
      lockUntil: '$3',
    });
    expect(qualified.countFailure).toMatch(
      /^n = \(CASE WHEN f\.until <= \$1::timestamptz THEN 1 ELSE f\.n \+ 1 END\), until = /,
    );
    expect(qualified.notLocked).toBe('(f.until IS NULL OR f.until <= $1::timestamptz)');
  });

  it('has no failure clause without the limit and lock-end placeholders (claims only need notLocked and reset)', () => {
    expect(lockSql({ failures: 'n', lockedUntil: 'until', now: '$3' }).countFailure).toBe('');
  });
});
