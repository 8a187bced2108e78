import { createHash, randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefusalAudit } from '#src/common/auth/refusal-audit.js';
import { PASSWORD, uniqueName } from './support/identity.js';
import { bootApp, TestApp } from './support/test-app.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const LIMIT = 10;
// Real limits (no test multiplier); a trusted X-Forwarded-For gives each test its own address.
const ENV = { RATE_LIMIT_MULTIPLIER: '1', AUTH_FAILURES_PER_MINUTE: String(LIMIT), TRUST_PROXY: 'true' };

/** Random per run, so reruns within a minute never meet an earlier run's counts in Redis. */
const randomIp = (): string => `10.${[...randomBytes(3)].join('.')}`;
const badApiKey = (): string => `otpk_${randomBytes(32).toString('base64url')}`;
const badJwt = (): string =>
  ['{"alg":"HS256","typ":"JWT"}', `{"sub":"${randomBytes(4).toString('hex')}"}`, 'sig']
    .map((part) => Buffer.from(part).toString('base64url'))
    .join('.');

function expectLimited(res: Response): void {
  expect(res.status).toBe(429);
  expect(res.body).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(res.body.retry_after).toBe(retryAfter);
}

/** Answers in order, as a status sequence: "401×10 429×190". */
function summary(answers: Response[]): string {
  const runs: Array<[number, number]> = [];
  for (const { status } of answers) {
    const last = runs.at(-1);
    if (last?.[0] === status) last[1]++;
    else runs.push([status, 1]);
  }
  return runs.map(([status, n]) => `${status}×${n}`).join(' ');
}

async function auditRows(t: TestApp, ip: string): Promise<Array<{ action: string; details: Record<string, unknown> }>> {
  await t.app.get(RefusalAudit).flush();
  return t.dataSource.query(`SELECT action, details FROM audit_logs WHERE ip = $1 ORDER BY id`, [ip]);
}

describe('refused requests limited per client address', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await bootApp(ENV);
  });
  afterAll(() => t?.close());

  /** An account signed up from an address of its own (sign-ups are limited per address). */
  async function signUp(): Promise<{ id: string; username: string; email: string }> {
    const username = uniqueName();
    const email = `${username}@example.com`;
    const res = await t
      .http()
      .post('/api/v1/auth/register')
      .set('x-forwarded-for', randomIp())
      .send({ username, email, password: PASSWORD });
    expect(res.status).toBe(201);
    return { id: res.body.id, username, email };
  }

  async function apiKey(scopes: string[]): Promise<string> {
    const key = `otpk_${randomBytes(32).toString('base64url')}`;
    await t.dataSource.query(
      `INSERT INTO api_keys (name, client_id, prefix, key_hash, scopes) VALUES ('limit test', 'acme', $1, $2, $3)`,
      [key.slice(0, 13), createHash('sha256').update(key).digest('hex'), scopes],
    );
    return key;
  }

  it('answers 429 with Retry-After to a burst of bad API keys past the limit, and audits a bounded number of rows', async () => {
    const ip = randomIp();
    const answers: Response[] = [];
    for (let i = 0; i < 200; i++) {
      answers.push(await t.http().get('/api/v1/devices').set('x-forwarded-for', ip).set('x-api-key', badApiKey()));
    }
    expect(summary(answers)).toBe(`401×${LIMIT} 429×${200 - LIMIT}`);
    expect(answers[0].body.code).toBe('INVALID_API_KEY');
    expectLimited(answers[LIMIT]);
    expect(answers[LIMIT].body.detail).toMatch(
      /^Too many refused requests from this address; retry after \d+ seconds$/,
    );

    // Ten records as they happened, then one count for the rest of the minute.
    const rows = await auditRows(t, ip);
    expect(rows.map((r) => r.action)).toEqual([...Array(LIMIT).fill('authn.failed'), 'authn.throttled']);
    expect(rows[0].details).toEqual({ code: 'INVALID_API_KEY' });
    expect(rows[LIMIT].details).toMatchObject({
      count: 200 - LIMIT,
      codes: { RATE_LIMITED: 200 - LIMIT },
      window: { from: expect.any(String), to: expect.any(String) },
    });
  });

  it('refuses a valid credential from a limited address before trying it, and serves other addresses', async () => {
    const key = await apiKey(['devices:read']);
    const ip = randomIp();
    for (let i = 0; i < LIMIT; i++) {
      await t.http().get('/api/v1/devices').set('x-forwarded-for', ip).set('x-api-key', badApiKey()).expect(401);
    }
    expectLimited(await t.http().get('/api/v1/devices').set('x-forwarded-for', ip).set('x-api-key', key));
    await t.http().get('/api/v1/devices').set('x-forwarded-for', randomIp()).set('x-api-key', key).expect(200);
  });

  it('limits bad access tokens the same way', async () => {
    const ip = randomIp();
    const answers: Response[] = [];
    for (let i = 0; i < 50; i++) {
      answers.push(
        await t.http().get('/api/v1/users/me').set('x-forwarded-for', ip).set('authorization', `Bearer ${badJwt()}`),
      );
    }
    expect(summary(answers)).toBe(`401×${LIMIT} 429×${50 - LIMIT}`);
    expect(answers[0].body.code).toBe('INVALID_TOKEN');
    expectLimited(answers[LIMIT]);
    const rows = await auditRows(t, ip);
    expect(rows).toHaveLength(LIMIT + 1);
  });

  it('stops password spraying from one address before the password is checked', async () => {
    const ip = randomIp();
    const answers: Response[] = [];
    for (let i = 0; i < 40; i++) {
      answers.push(
        await t
          .http()
          .post('/api/v1/auth/login')
          .set('x-forwarded-for', ip)
          .send({ username: uniqueName('sprayed'), password: PASSWORD }),
      );
    }
    expect(summary(answers)).toBe(`401×${LIMIT} 429×${40 - LIMIT}`);
    expectLimited(answers[LIMIT]);
    // Every password check ends in an auth.login record: ten checks, not forty.
    const rows = await auditRows(t, ip);
    expect(rows.filter((r) => r.action === 'auth.login')).toHaveLength(LIMIT);
    expect(rows.filter((r) => r.action === 'authn.failed')).toHaveLength(0);
    expect(rows.find((r) => r.action === 'authn.throttled')?.details).toMatchObject({ count: 40 - LIMIT });
  });

  it('counts logins by username and by e-mail against one account', async () => {
    const account = await signUp();
    const attempt = (name: string) =>
      t
        .http()
        .post('/api/v1/auth/login')
        .set('x-forwarded-for', randomIp())
        .send({ username: name, password: 'Wrong-Password-1!' });
    for (const name of [
      account.username,
      account.email,
      account.username.toUpperCase(),
      account.email,
      ` ${account.email} `,
    ]) {
      expect((await attempt(name)).status).toBe(401);
    }
    // The sixth attempt within five minutes, under either name.
    const sixth = await attempt(account.email.toUpperCase());
    expect(sixth.status).toBe(429);
    expect(sixth.body.code).toBe('RATE_LIMITED');
    expect((await attempt(account.username)).status).toBe(429);
    // An unknown name has a count of its own, answered alike.
    const ghost = uniqueName('ghost');
    for (let i = 0; i < 5; i++) expect((await attempt(ghost)).status).toBe(401);
    expect((await attempt(ghost)).status).toBe(429);
  });
});

describe('refused requests limited across instances', () => {
  let one: TestApp;
  let two: TestApp;

  beforeAll(async () => {
    one = await bootApp({ ...ENV, REDIS_URL });
    two = await bootApp({ ...ENV, REDIS_URL });
  });
  afterAll(async () => {
    await Promise.all([one?.close(), two?.close()]);
  });

  it('shares the count: another instance tries at most one more credential', async () => {
    const ip = randomIp();
    const bad = (t: TestApp) =>
      t.http().get('/api/v1/devices').set('x-forwarded-for', ip).set('x-api-key', badApiKey());
    for (let i = 0; i < LIMIT; i++) await bad(one).expect(401);
    expectLimited(await bad(one));
    await bad(two).expect(401);
    expectLimited(await bad(two));
  });
});
