import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  afterFailure,
  countedOutcome,
  type CountedRow,
  lockEnd,
  type LockState,
  lockSql,
} from '../src/common/lockout.js';

/**
 * The lock rule's SQL fragments, run on the test run's database, against the rule in plain
 * code: over random sequences of failures, successes and time passing they must agree on
 * every verdict (counted or refused) and every stored state.
 */
describe('lock rule: SQL and plain code agree', () => {
  const RULE = { maxFailures: 4, lockMinutes: 10 };
  const FAILURE = lockSql({
    failures: 'failures',
    lockedUntil: 'locked_until',
    now: '$2',
    maxFailures: '$3',
    lockUntil: '$4',
  });
  const CLAIM = lockSql({ failures: 'failures', lockedUntil: 'locked_until', now: '$2' });
  let client: pg.Client;

  beforeAll(async () => {
    client = new pg.Client({ connectionString: inject('databaseUrl') });
    await client.connect();
    await client.query(
      'CREATE TEMP TABLE lock_model (id int PRIMARY KEY, failures int NOT NULL, locked_until timestamptz)',
    );
  });
  afterAll(() => client.end());

  /** A small deterministic generator, so a failing sequence can be replayed. */
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31;
    };
  }

  it('over 20 sequences of 50 steps each, through locks, refusals and lapses', async () => {
    const seen = { locks: 0, refusals: 0, lapses: 0 };
    for (let seed = 1; seed <= 20; seed++) {
      const next = random(seed);
      let now = new Date('2026-01-01T00:00:00Z');
      let model: LockState = { failures: 0, lockedUntil: null };
      await client.query('DELETE FROM lock_model');
      await client.query('INSERT INTO lock_model VALUES (1, 0, NULL)');
      for (let step = 0; step < 50; step++) {
        const roll = next();
        if (roll < 0.15) {
          now = new Date(now.getTime() + Math.floor(next() * 15) * 60_000);
          continue;
        }
        if (roll < 0.25) {
          const { rowCount } = await client.query(
            `UPDATE lock_model SET ${CLAIM.reset} WHERE id = $1 AND ${CLAIM.notLocked}`,
            [1, now],
          );
          const allowed = !(model.lockedUntil && model.lockedUntil > now);
          expect(rowCount === 1, `seed ${seed} step ${step}: success`).toBe(allowed);
          if (allowed) model = { failures: 0, lockedUntil: null };
        } else {
          const { rows } = await client.query<CountedRow>(
            `UPDATE lock_model SET ${FAILURE.countFailure} WHERE id = $1 AND ${FAILURE.notLocked}
             RETURNING ${FAILURE.returning}`,
            [1, now, RULE.maxFailures, lockEnd(RULE, now)],
          );
          const expected = afterFailure(model, RULE, now);
          const outcome = countedOutcome(rows[0]);
          expect(outcome.counted, `seed ${seed} step ${step}: counted`).toBe(expected !== null);
          if (!expected) seen.refusals++;
          else if (model.lockedUntil) seen.lapses++;
          if (expected?.lockedUntil) seen.locks++;
          if (expected) model = expected;
        }
        const { rows } = await client.query<CountedRow>('SELECT failures, locked_until FROM lock_model');
        expect(
          { failures: rows[0]!.failures, lockedUntil: rows[0]!.locked_until },
          `seed ${seed} step ${step}`,
        ).toEqual(model);
      }
    }
    expect(seen.locks).toBeGreaterThan(10);
    expect(seen.refusals).toBeGreaterThan(10);
    expect(seen.lapses).toBeGreaterThan(3);
  });
});
