import { execFile, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HealthService } from '../src/health/health.service.js';
import { FakeClock } from './support/fake-clock.js';
import { createUser, issueApiKey, TestUser, uniqueName } from './support/identity.js';
import { bootApp, TestApp, testSecret } from './support/test-app.js';

/**
 * Seed 002, the enterprise device OTP service, through COMPAT_DEVICE_OTP: its clients change
 * only the base URL (`https://host/compat/device-otp`) and the API key. The codes come from
 * the client's own arithmetic, in Python (test/fixtures/device-otp-client.py, run as a
 * process) and ported to TypeScript below, checked against oathtool.
 */

const BASE = '/compat/device-otp';
const CLIENT_SCRIPT = fileURLToPath(new URL('./fixtures/device-otp-client.py', import.meta.url));
const STEP_MS = 30_000;
const run = promisify(execFile);

/** The client's `generate_otp_from_key`, ported: the code as an INTEGER (leading zeros lost). */
function clientOtp(derivedKeyBase64: string, atMs: number, digits = 6, interval = 30): number {
  const derivedKey = Buffer.from(derivedKeyBase64, 'base64');
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(atMs / 1000 / interval)));
  const hmacHash = createHmac('sha1', derivedKey).update(msg).digest();
  const offset = hmacHash[hmacHash.length - 1]! & 0x0f;
  const codeInt = hmacHash.readUInt32BE(offset) & 0x7fffffff;
  return codeInt % 10 ** digits;
}

/** oathtool's TOTP of the raw key (hex) at `at`: six digits as shown. */
function oathtool(derivedKeyBase64: string, at: Date): string {
  const now = at
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  const hex = Buffer.from(derivedKeyBase64, 'base64').toString('hex');
  return execFileSync('oathtool', ['--totp', `--now=${now}`, hex], { encoding: 'utf8' }).trim();
}

/** A code no step the service accepts at `atMs` (T-1, T, T+1) yields, as an integer. */
function wrongOtp(derivedKeyBase64: string, atMs: number): number {
  const taken = new Set([-1, 0, 1].map((d) => clientOtp(derivedKeyBase64, atMs + d * STEP_MS)));
  let n = 0;
  while (taken.has(n)) n++;
  return n;
}

/** Bodies no client sends: each must be a 4xx in the system's shape, never a 5xx. */
const HOSTILE_BODIES = [
  '[1,2]',
  'null',
  '1e400',
  '{"device_id":"a\\u0000b","otp":1}',
  '{"device_id":"\\ud800","otp":1}',
  '{"device_id":"x","otp":{"a":1}}',
  '{"device_id":"x","otp":1e400}',
  '['.repeat(100) + ']'.repeat(100),
  '{"device_id":',
];

/** An answer as the examples below state it: status, and the body field by field. */
interface Answer {
  status: number;
  body: unknown;
}

/** What the examples need from the run: the device's key (from the registration) and the time. */
interface Run {
  derivedKey: string;
  now: Date;
}

interface Example {
  /** As the README proposes it. */
  title: string;
  method: 'get' | 'post';
  path: string;
  /** Sends `Authorization: Bearer <API key>`, as the system's clients did. */
  authenticated: boolean;
  body?: (run: Run) => object;
  answer: (run: Run) => Answer;
}

/**
 * The README's examples for 002, in order (see the proposed README text: one curl command
 * each, base URL `https://host/compat/device-otp`).
 */
const README_EXAMPLES: Example[] = [
  {
    title: '1. Health check',
    method: 'get',
    path: '/health',
    authenticated: false,
    answer: ({ now }) => ({
      status: 200,
      body: { status: 'healthy', timestamp: now.toISOString(), version: '0.0.0-test', database: 'healthy' },
    }),
  },
  {
    title: '2. Register device',
    method: 'post',
    path: '/api/v1/devices/register',
    authenticated: true,
    body: () => ({ device_id: 'TEST-DEVICE-001', user_id: 'test@example.com' }),
    answer: ({ derivedKey }) => ({
      status: 200,
      body: {
        success: true,
        message: 'Device registered successfully',
        data: { device_id: 'TEST-DEVICE-001', derived_key: derivedKey },
      },
    }),
  },
  {
    title: '3. Verify OTP (the code as a JSON integer)',
    method: 'post',
    path: '/api/v1/otp/verify',
    authenticated: true,
    body: ({ derivedKey, now }) => ({ device_id: 'TEST-DEVICE-001', otp: clientOtp(derivedKey, now.getTime()) }),
    answer: () => ({
      status: 200,
      body: { success: true, message: 'OTP verification completed', data: { valid: true } },
    }),
  },
  {
    title: '4. Deactivate device',
    method: 'post',
    path: '/api/v1/devices/TEST-DEVICE-001/deactivate',
    authenticated: true,
    answer: () => ({
      status: 200,
      body: { success: true, message: 'Device deactivated successfully', data: null },
    }),
  },
  {
    title: '5. Without the API key (refused)',
    method: 'post',
    path: '/api/v1/devices/register',
    authenticated: false,
    body: () => ({ device_id: 'TEST-DEVICE-002', user_id: 'test@example.com' }),
    answer: () => ({
      status: 401,
      body: { success: false, message: 'Not authenticated', data: null, detail: 'Not authenticated' },
    }),
  },
];

describe('compat 002: the enterprise device OTP service (COMPAT_DEVICE_OTP)', () => {
  const clock = new FakeClock(new Date('2026-05-01T00:00:05Z'));
  const master = testSecret();
  const clientId = uniqueName('acme');
  let t: TestApp;
  let admin: TestUser;
  let apiKey: string;
  let otherClientKey: string;

  const post = (path: string, body: object, key: string | null = apiKey) => {
    const req = t.http().post(`${BASE}${path}`);
    return (key === null ? req : req.set('authorization', `Bearer ${key}`)).send(body);
  };
  const register = async (key = apiKey) => {
    const deviceId = uniqueName('TEST-DEVICE');
    const res = await post('/api/v1/devices/register', { device_id: deviceId, user_id: 'test@example.com' }, key);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return { deviceId, derivedKey: res.body.data.derived_key as string };
  };
  const verify = (deviceId: string, otp: unknown, key = apiKey) =>
    post('/api/v1/otp/verify', { device_id: deviceId, otp }, key);

  beforeAll(async () => {
    t = await bootApp({ COMPAT_DEVICE_OTP: 'true', MASTER_SECRETS: `1:${master}` }, { clock });
    admin = await createUser(t, { role: 'admin' });
    const scopes = ['devices:write', 'devices:read', 'devices:verify'];
    apiKey = await issueApiKey(t, admin, clientId, scopes);
    otherClientKey = await issueApiKey(t, admin, uniqueName('globex'), scopes);
  });
  afterAll(() => t.close());

  it('replays the README examples in order and answers each field by field', async () => {
    const now = clock.now();
    // The key the registration answers: HMAC-SHA256(master secret, client_id:device_id).
    const derivedKey = createHmac('sha256', Buffer.from(master, 'utf8'))
      .update(`${clientId}:TEST-DEVICE-001`)
      .digest('base64');
    const runState: Run = { derivedKey, now };
    // The client's integer and oathtool agree on the code the examples send.
    expect(String(clientOtp(derivedKey, now.getTime())).padStart(6, '0')).toBe(oathtool(derivedKey, now));
    for (const example of README_EXAMPLES) {
      let req = t.http()[example.method](`${BASE}${example.path}`);
      if (example.authenticated) req = req.set('authorization', `Bearer ${apiKey}`);
      const res = example.body ? await req.send(example.body(runState)) : await req;
      const expected = example.answer(runState);
      expect({ status: res.status, body: res.body }, example.title).toEqual(expected);
      expect(res.headers['content-type'], example.title).toMatch(/^application\/json/);
    }
  });

  it('works with the Python client unchanged: only the base URL and the API key are given', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const now = clock.now();
    const { stdout } = await run('/usr/bin/python3', [CLIENT_SCRIPT, `http://127.0.0.1:${port}${BASE}`, apiKey], {
      env: { ...process.env, OTP_CLIENT_TIME: String(now.getTime() / 1000) },
    });
    const out = JSON.parse(stdout) as {
      device_id: string;
      otp: number;
      register: Answer & { body: { data: { derived_key: string } } };
      verify: Answer;
    };
    const derivedKey = createHmac('sha256', Buffer.from(master, 'utf8'))
      .update(`${clientId}:${out.device_id}`)
      .digest('base64');
    expect(out.register).toEqual({
      status: 200,
      body: {
        success: true,
        message: 'Device registered successfully',
        data: { device_id: out.device_id, derived_key: derivedKey },
      },
    });
    // The Python client's code is the TypeScript port's and oathtool's.
    expect(out.otp).toBe(clientOtp(derivedKey, now.getTime()));
    expect(String(out.otp).padStart(6, '0')).toBe(oathtool(derivedKey, now));
    expect(out.verify).toEqual({
      status: 200,
      body: { success: true, message: 'OTP verification completed', data: { valid: true } },
    });
  });

  it("answers health from the service's own database check: 503 and unhealthy while the database is down", async () => {
    const check = vi.spyOn(t.app.get(HealthService), 'databaseUp').mockResolvedValueOnce(false);
    const res = await t.http().get(`${BASE}/health`);
    expect(check).toHaveBeenCalledTimes(1);
    check.mockRestore();
    expect({ status: res.status, body: res.body }).toEqual({
      status: 503,
      body: { status: 'unhealthy', timestamp: clock.now().toISOString(), version: '0.0.0-test', database: 'unhealthy' },
    });
    expect(res.headers['cache-control']).toBe('no-store');
    expect((await t.http().get(`${BASE}/health`)).body.status).toBe('healthy');
  });

  it('accepts X-API-Key as well as the bearer token the client sends', async () => {
    const deviceId = uniqueName('TEST-DEVICE');
    const res = await t
      .http()
      .post(`${BASE}/api/v1/devices/register`)
      .set('x-api-key', apiKey)
      .send({ device_id: deviceId, user_id: 'test@example.com' });
    expect(res.status).toBe(200);
    expect(res.body.data.device_id).toBe(deviceId);
  });

  it('left-pads an integer otp with a leading zero to the six digits the device shows', async () => {
    const { deviceId, derivedKey } = await register();
    // Walk forward to a step whose code starts with 0, so the integer has five digits or fewer.
    let otp = clientOtp(derivedKey, clock.now().getTime());
    while (otp >= 100_000) {
      clock.advance(STEP_MS);
      otp = clientOtp(derivedKey, clock.now().getTime());
    }
    expect(oathtool(derivedKey, clock.now())).toBe(String(otp).padStart(6, '0'));
    expect(oathtool(derivedKey, clock.now()).startsWith('0')).toBe(true);
    const res = await verify(deviceId, otp);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, message: 'OTP verification completed', data: { valid: true } });
  });

  it('accepts the code as a string too, with or without its leading zeros', async () => {
    const { deviceId, derivedKey } = await register();
    clock.advance(STEP_MS);
    const shown = oathtool(derivedKey, clock.now());
    expect((await verify(deviceId, shown)).body.data).toEqual({ valid: true });
    const other = await register();
    let otp = clientOtp(other.derivedKey, clock.now().getTime());
    while (otp >= 100_000) {
      clock.advance(STEP_MS);
      otp = clientOtp(other.derivedKey, clock.now().getTime());
    }
    expect((await verify(other.deviceId, String(otp))).body.data).toEqual({ valid: true });
  });

  it('refuses a replayed code: the same integer again answers valid false, audited as a replay', async () => {
    const { deviceId, derivedKey } = await register();
    clock.advance(STEP_MS);
    const otp = clientOtp(derivedKey, clock.now().getTime());
    expect((await verify(deviceId, otp)).body.data).toEqual({ valid: true });
    const replay = await verify(deviceId, otp);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ success: true, message: 'OTP verification completed', data: { valid: false } });
    const rows = await t.dataSource.query(
      `SELECT status, details->>'reason' AS reason FROM audit_logs
        WHERE action = 'device.verify' AND details->>'device_id' = $1 ORDER BY id`,
      [deviceId],
    );
    expect(rows).toEqual([
      { status: 'success', reason: null },
      { status: 'failure', reason: 'replay' },
    ]);
  });

  it('rejects an otp that cannot be a code with 400 in the system shape', async () => {
    const { deviceId } = await register();
    const message = 'otp must be a whole number from 0 to 999999, or a string of at most 6 digits';
    for (const otp of [-1, 12.5, 1_000_000, 1e21, '1234567', '-12345', '12a456', '', true, null, [123456]]) {
      const res = await verify(deviceId, otp);
      expect({ status: res.status, body: res.body }, JSON.stringify(otp)).toEqual({
        status: 400,
        body: { success: false, message, data: null, detail: message },
      });
    }
    const unknownField = await post('/api/v1/otp/verify', { device_id: deviceId, otp: 123456, window: 5 });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body).toMatchObject({
      success: false,
      data: null,
      message: 'property window should not exist',
    });
    const registerDuplicate = await post('/api/v1/devices/register', { device_id: deviceId, user_id: 'x' });
    expect({ status: registerDuplicate.status, body: registerDuplicate.body }).toEqual({
      status: 400,
      body: { success: false, message: 'Device already registered', data: null, detail: 'Device already registered' },
    });
  });

  it('answers hostile bodies with a 4xx in the system shape, never a 5xx', async () => {
    for (const body of HOSTILE_BODIES) {
      const res = await t
        .http()
        .post(`${BASE}/api/v1/otp/verify`)
        .set('authorization', `Bearer ${apiKey}`)
        .set('content-type', 'application/json')
        .send(body);
      expect(res.status, body).toBeGreaterThanOrEqual(400);
      expect(res.status, body).toBeLessThan(500);
      expect(res.body, body).toMatchObject({ success: false, data: null, message: expect.any(String) });
      expect(res.body.detail, body).toBe(res.body.message);
    }
  });

  it("answers another client's device exactly like a missing one", async () => {
    const { deviceId, derivedKey } = await register();
    const code = clientOtp(derivedKey, clock.now().getTime());
    const missing = uniqueName('TEST-DEVICE');
    const notFound = {
      status: 400,
      body: { success: false, message: 'Device not found', data: null, detail: 'Device not found' },
    };
    for (const [label, res] of [
      ['verify, other client', await verify(deviceId, code, otherClientKey)],
      ['verify, missing', await verify(missing, code)],
      ['deactivate, other client', await post(`/api/v1/devices/${deviceId}/deactivate`, {}, otherClientKey)],
      ['deactivate, missing', await post(`/api/v1/devices/${missing}/deactivate`, {})],
    ] as const) {
      expect({ status: res.status, body: res.body }, label).toEqual(notFound);
    }
    // The owner's device is untouched: still active, and the code is still good.
    expect((await verify(deviceId, code)).body.data).toEqual({ valid: true });
  });

  it('never accepts a code of a deactivated device', async () => {
    const { deviceId, derivedKey } = await register();
    expect((await post(`/api/v1/devices/${deviceId}/deactivate`, {})).status).toBe(200);
    clock.advance(STEP_MS);
    const res = await verify(deviceId, clientOtp(derivedKey, clock.now().getTime()));
    expect(res.body).toEqual({ success: true, message: 'OTP verification completed', data: { valid: false } });
  });

  it('locks the device after 10 wrong codes: 423 in the system shape with Retry-After, audited, until the lock ends', async () => {
    const { deviceId, derivedKey } = await register();
    clock.advance(STEP_MS);
    for (let i = 0; i < 10; i++) {
      const res = await verify(deviceId, wrongOtp(derivedKey, clock.now().getTime()));
      expect({ status: res.status, valid: res.body.data?.valid }, `wrong code ${i + 1}`).toEqual({
        status: 200,
        valid: false,
      });
    }
    // Locked: even the right code is refused with the service's status and header.
    const locked = await verify(deviceId, clientOtp(derivedKey, clock.now().getTime()));
    expect(locked.status).toBe(423);
    expect(locked.headers['retry-after']).toBe(String(15 * 60));
    const lockMessage = 'Too many failed verifications: the device is locked for a while. Try again in 900 seconds.';
    expect(locked.body).toEqual({ success: false, message: lockMessage, data: null, detail: lockMessage });
    const audited = await t.dataSource.query(
      `SELECT action, status, details->>'reason' AS reason FROM audit_logs
        WHERE details->>'device_id' = $1 AND action IN ('device.verify', 'device.lock') ORDER BY id`,
      [deviceId],
    );
    expect(audited.filter((r: { reason: string }) => r.reason === 'mismatch')).toHaveLength(10);
    expect(audited.slice(-2)).toEqual([
      { action: 'device.lock', status: 'success', reason: null },
      { action: 'device.verify', status: 'failure', reason: 'locked' },
    ]);

    clock.advance(15 * 60_000);
    const after = await verify(deviceId, clientOtp(derivedKey, clock.now().getTime()));
    expect(after.body.data).toEqual({ valid: true });
  });

  it('audits a refused API key, answered in the system shape', async () => {
    const res = await post('/api/v1/otp/verify', { device_id: 'TEST-DEVICE-001', otp: 123456 }, 'otpk_not-a-key');
    expect({ status: res.status, body: res.body }).toEqual({
      status: 401,
      body: { success: false, message: 'Invalid API key', data: null, detail: 'Invalid API key' },
    });
    const [row] = await t.dataSource.query(
      `SELECT actor_type, status, details FROM audit_logs
        WHERE action = 'authn.failed' AND resource_id = $1 AND request_id = $2`,
      [`POST ${BASE}/api/v1/otp/verify`, res.headers['x-request-id']],
    );
    expect(row).toEqual({ actor_type: 'anonymous', status: 'failure', details: { code: 'INVALID_API_KEY' } });
  });

  it('documents the routes under their own tag in the OpenAPI document', async () => {
    const res = await t.http().get('/docs/openapi.json');
    const paths = Object.entries(res.body.paths as Record<string, Record<string, { tags: string[] }>>).filter(
      ([path]) => path.startsWith(`${BASE}/`),
    );
    expect(paths.map(([path]) => path).sort()).toEqual([
      `${BASE}/api/v1/devices/register`,
      `${BASE}/api/v1/devices/{device_id}/deactivate`,
      `${BASE}/api/v1/otp/verify`,
      `${BASE}/health`,
    ]);
    for (const [, item] of paths) {
      for (const operation of Object.values(item)) expect(operation.tags).toEqual(['compat 002: device OTP']);
    }
    // Its refusals are documented in its own shape, not as the service's problem details.
    const verifyOperation = res.body.paths[`${BASE}/api/v1/otp/verify`].post;
    expect(verifyOperation.responses['400'].content).toEqual({
      'application/json': { schema: { $ref: '#/components/schemas/DeviceOtpErrorDto' } },
    });
  });
});

describe('compat 002 under the default per-caller rate limit of the devices routes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootApp({ COMPAT_DEVICE_OTP: 'true', RATE_LIMIT_DEFAULT_PER_MINUTE: '3', RATE_LIMIT_MULTIPLIER: '1' });
  });
  afterAll(() => t.close());

  it('answers the request past the limit 429 in the system shape, with Retry-After', async () => {
    const admin = await createUser(t, { role: 'admin' });
    const key = await issueApiKey(t, admin, uniqueName('acme'), ['devices:verify']);
    const verify = () =>
      t
        .http()
        .post(`${BASE}/api/v1/otp/verify`)
        .set('authorization', `Bearer ${key}`)
        .send({ device_id: 'TEST-DEVICE-001', otp: 123456 });
    for (let i = 0; i < 3; i++) expect((await verify()).status).toBe(400);
    const limited = await verify();
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    const message = `Too many requests; retry after ${retryAfter} seconds`;
    expect(limited.body).toEqual({ success: false, message, data: null, detail: message });
  });
});

describe('compat 002 switched off (the default)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootApp();
  });
  afterAll(() => t.close());

  it('answers 404 on every route of the system, while the own API serves devices', async () => {
    const admin = await createUser(t, { role: 'admin' });
    const key = await issueApiKey(t, admin, uniqueName('acme'), ['devices:write', 'devices:verify']);
    for (const [method, path] of [
      ['get', '/health'],
      ['post', '/api/v1/devices/register'],
      ['post', '/api/v1/otp/verify'],
      ['post', '/api/v1/devices/TEST-DEVICE-001/deactivate'],
    ] as const) {
      const res = await t.http()[method](`${BASE}${path}`).set('x-api-key', key).send({});
      expect(res.status, path).toBe(404);
      expect(res.body.code, path).toBe('NOT_FOUND');
    }
    const own = await t
      .http()
      .post('/api/v1/devices/register')
      .set('x-api-key', key)
      .send({ device_id: 'TEST-DEVICE-001', user_id: 'test@example.com' });
    expect(own.status).toBe(201);
  });
});
