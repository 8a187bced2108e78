import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, TestApp } from './support/test-app.js';
import { ProbeModule } from './support/probe.module.js';

describe('request logs', () => {
  let t: TestApp;
  const lines: string[] = [];

  beforeAll(async () => {
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    t = await bootApp({ LOG_LEVEL: 'info' }, { logDestination: stream, imports: [ProbeModule] });
  });
  afterAll(() => t.close());

  it('writes one JSON line per request with id, method, route, status and latency', async () => {
    await t.http().get('/health').set('x-request-id', 'log-line-1').expect(200);
    const entry = lines.map((line) => JSON.parse(line)).find((e) => e.reqId === 'log-line-1');
    expect(entry).toMatchObject({
      reqId: 'log-line-1',
      request: { method: 'GET', path: '/health' },
      status: 200,
      route: '/health',
      responseTime: expect.any(Number),
    });
  });

  it('never writes credentials, secrets or codes', async () => {
    const secrets = ['Bearer-token-abc123xyz', 'api-key-SECRET-987', 'Passw0rd!Secret', 'JBSWY3DPEHPK3PXP'];
    await t
      .http()
      .post('/api/v1/probe?token=Bearer-token-abc123xyz')
      .set('authorization', `Bearer ${secrets[0]}`)
      .set('x-api-key', secrets[1])
      .set('x-request-id', 'log-line-2')
      .send({ name: 'n', digits: 6, password: secrets[2], secret: secrets[3] });
    const output = lines.join('\n');
    expect(output).toContain('log-line-2');
    for (const secret of secrets) expect(output).not.toContain(secret);
    const entry = lines.map((line) => JSON.parse(line)).find((e) => e.reqId === 'log-line-2');
    expect(entry.request.headers).toMatchObject({ authorization: '[REDACTED]', 'x-api-key': '[REDACTED]' });
  });
});

describe('database errors in logs', () => {
  let t: TestApp;
  const lines: string[] = [];

  beforeAll(async () => {
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    t = await bootApp({ LOG_LEVEL: 'debug' }, { logDestination: stream });
    // A real statement of a real route fails: sign-ups to this domain are refused by a trigger
    // whose message and detail echo the row's values, as Postgres' own messages do.
    await t.dataSource.query(`
      CREATE FUNCTION log_leak_probe() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.email LIKE '%@log-leak.test' THEN
          RAISE EXCEPTION 'sign-up refused for % / "%"', NEW.email, lower(NEW.email)
            USING ERRCODE = 'P0001', DETAIL = 'Key (username)=(' || NEW.username || ')';
        END IF;
        RETURN NEW;
      END $$`);
    await t.dataSource.query(
      `CREATE TRIGGER log_leak_probe BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION log_leak_probe()`,
    );
  });
  afterAll(async () => {
    await t.dataSource.query(`DROP TRIGGER log_leak_probe ON users`);
    await t.dataSource.query(`DROP FUNCTION log_leak_probe()`);
    await t.close();
  });

  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

  it('logs a failed statement of a request with its SQL and error code, never its parameter values', async () => {
    const username = `leak_${Date.now()}`;
    const email = `Leak.${username}@log-leak.test`;
    const password = 'Leaky-Password-7!';
    const res = await t
      .http()
      .post('/api/v1/auth/register')
      .set('x-request-id', 'db-error-1')
      .send({ username, email, password });
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('INTERNAL_ERROR');

    const logged = entries().find((e) => e.requestId === 'db-error-1' && e.msg === 'unhandled error');
    expect(logged?.err).toMatchObject({
      type: 'QueryFailedError',
      code: 'P0001',
      sql: expect.stringContaining('INSERT INTO "users"'),
    });
    const output = lines.join('\n');
    for (const value of [username, email, email.toLowerCase(), password, '$argon2id$']) {
      expect(output).not.toContain(value);
    }
    expect(output).not.toContain('"parameters"');
    expect(output).not.toContain('"detail"');
  });

  it('logs an expected failure (a taken e-mail, answered 409) at debug level without its values', async () => {
    const username = `taken_${Date.now()}`;
    const email = `${username}@example.com`;
    const first = await t.http().post('/api/v1/auth/register').send({ username, email, password: 'Taken-Password-7!' });
    expect(first.status).toBe(201);
    const before = lines.length;
    const again = await t
      .http()
      .post('/api/v1/auth/register')
      .send({ username: `${username}_2`, email: email.toUpperCase(), password: 'Taken-Password-8!' });
    expect(again.status).toBe(409);
    const after = lines.slice(before);
    const failed = after.map((line) => JSON.parse(line)).find((e) => e.msg === 'statement failed');
    expect(failed).toMatchObject({
      code: '23505',
      constraint: 'UQ_users_email',
      sql: expect.stringContaining('INSERT'),
    });
    const output = after.join('\n');
    for (const value of [username, email, email.toUpperCase(), 'Taken-Password-8!', '$argon2id$']) {
      expect(output).not.toContain(value);
    }
  });
});
