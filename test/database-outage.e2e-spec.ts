import { PassThrough } from 'node:stream';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientUsageKey, createUser, issueApiKey, PASSWORD, TestUser } from './support/identity.js';
import { PrivatePostgres, waitFor } from './support/private-servers.js';
import { bootApp, TestApp } from './support/test-app.js';

interface LogEntry {
  level: number;
  msg?: string;
  context?: string;
  route?: string;
  status?: number;
}

/** pino's numeric levels. */
const WARN = 40;
const ERROR = 50;

describe('Postgres outage: database routes answer 503 DATABASE_UNAVAILABLE, then recover without a restart', () => {
  const lines: string[] = [];
  let db: PrivatePostgres;
  let t: TestApp;
  let user: TestUser;
  let useKey: string;
  let keyName: string;

  const entries = (from = 0): LogEntry[] => lines.slice(from).map((line) => JSON.parse(line) as LogEntry);
  const outageWarnings = (): LogEntry[] =>
    entries().filter((e) => e.context === 'Database' && e.level === WARN && /^database unreachable/.test(e.msg ?? ''));
  const recoveryLines = (): LogEntry[] =>
    entries().filter((e) => e.context === 'Database' && e.msg === 'database reachable again');

  const routes: Record<string, () => Promise<Response>> = {
    'GET users/me': () => t.http().get('/api/v1/users/me').set(user.auth),
    'POST auth/login': () => t.http().post('/api/v1/auth/login').send({ username: user.username, password: PASSWORD }),
    'POST keys/code': () => t.http().post('/api/v1/keys/code').set('x-api-key', useKey).send({ key: keyName }),
  };

  function expectDatabaseUnavailable(res: Response): void {
    expect(res.status, JSON.stringify(res.body)).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body).toEqual({
      type: 'urn:problem-type:otp-service:database-unavailable',
      title: 'Service Unavailable',
      status: 503,
      detail: 'The database cannot be reached right now; retry after 5 seconds.',
      code: 'DATABASE_UNAVAILABLE',
      requestId: expect.any(String),
      retry_after: 5,
    });
    // Nothing of the failure itself: no stack, query, driver error or address.
    expect(res.text).not.toMatch(/ECONNREFUSED|SELECT|stack|5432|127\.0\.0\.1|at \w+ \(/);
  }

  beforeAll(async () => {
    db = await PrivatePostgres.start();
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    t = await bootApp({ DATABASE_URL: db.url, HEALTH_CACHE_MS: '0', LOG_LEVEL: 'info' }, { logDestination: stream });
    const admin = await createUser(t, { role: 'admin' });
    user = await createUser(t);
    // The client's own key: usage-limited keys are reached by their owner only.
    useKey = await issueApiKey(t, admin, 'acme', ['keys:use', 'keys:admin']);
    keyName = (await createClientUsageKey(t, useKey, { max_uses: 1000 })).name;
  });
  afterAll(async () => {
    try {
      await t?.close();
    } finally {
      db?.destroy();
    }
  });

  it('answers 503 DATABASE_UNAVAILABLE with Retry-After on users/me, login and keys/code once Postgres is stopped', async ({
    annotate,
  }) => {
    // Served while it runs (the app migrated the private database at boot).
    for (const call of Object.values(routes)) expect((await call()).status).toBe(200);
    expect((await t.http().get('/health').expect(200)).body).toMatchObject({ status: 'ok', database: 'up' });

    db.stop();
    const from = lines.length;
    const seen: Record<string, number[]> = {};
    for (let round = 0; round < 5; round++) {
      for (const [route, call] of Object.entries(routes)) {
        const res = await call();
        (seen[route] ??= []).push(res.status);
        expectDatabaseUnavailable(res);
      }
    }
    await annotate(`status codes during the outage: ${JSON.stringify(seen)}`);
    const health = await t.http().get('/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'error', database: 'down' });

    // One warning for the whole outage; no error-level line, per request or otherwise.
    const logged = entries(from);
    expect(logged.filter((e) => e.level >= ERROR)).toEqual([]);
    expect(outageWarnings()).toHaveLength(1);
    // Each 503 still has its (warn-level) request line.
    expect(logged.filter((e) => e.status === 503 && e.level === WARN).length).toBeGreaterThanOrEqual(15);
  });

  it('answers 200 again once Postgres is back, without restarting the app', async () => {
    await db.start();
    await waitFor('users/me 200', async () => (await routes['GET users/me']()).status === 200);
    for (const call of Object.values(routes)) expect((await call()).status).toBe(200);
    expect((await t.http().get('/health').expect(200)).body).toMatchObject({ status: 'ok', database: 'up' });
    expect(recoveryLines()).toHaveLength(1);
  });

  it('warns once again in the next outage (the warning is re-armed by the recovery)', async () => {
    db.stop();
    for (let i = 0; i < 3; i++) expectDatabaseUnavailable(await routes['GET users/me']());
    expect(outageWarnings()).toHaveLength(2);
    await db.start();
    await waitFor('users/me 200', async () => (await routes['GET users/me']()).status === 200);
    expect(recoveryLines()).toHaveLength(2);
  });
});
