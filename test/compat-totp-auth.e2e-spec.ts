import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from './support/fake-clock.js';
import { createUser, issueApiKey, TestUser, uniqueName } from './support/identity.js';
import { bootApp, TestApp } from './support/test-app.js';

/**
 * Seed 003, the TOTP registration service, through COMPAT_TOTP_AUTH: its clients change only
 * the base URL (`https://host/compat/totp-auth`) and the X-API-Key. Codes come from oathtool,
 * over the secret read out of the provisioning URI the registration answers.
 */

const BASE = '/compat/totp-auth';
const STEP_MS = 30_000;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** What oathtool prints for a base32 secret at `at` (whole seconds, UTC). */
function oathtool(secret: string, at: Date): string {
  const now = at
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  return execFileSync('oathtool', ['--totp', '-b', `--now=${now}`, secret], { encoding: 'utf8' }).trim();
}

/** The secret of an `otpauth://totp/...?secret=...` URI, as an authenticator app reads it. */
const secretOf = (provisioningUri: string): string => new URL(provisioningUri).searchParams.get('secret')!;

/** A code none of the steps the service accepts at `at` (T-1, T, T+1) yields. */
function wrongCode(secret: string, at: Date): string {
  const taken = new Set([-1, 0, 1].map((d) => oathtool(secret, new Date(at.getTime() + d * STEP_MS))));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0');
    if (!taken.has(code)) return code;
  }
}

/** Bodies no client sends: each must be a 4xx in the system's shape, never a 5xx. */
const HOSTILE_BODIES = [
  '[1,2]',
  'null',
  '1e400',
  '{"username":"a\\u0000b","otp":"1"}',
  '{"username":"\\ud800","otp":"1"}',
  '{"username":"x","otp":{"a":1}}',
  '{"username":"x","otp":1e400}',
  '['.repeat(100) + ']'.repeat(100),
  '{"username":',
];

/** What the examples need from the run: the client, the time, and the secret of the registration. */
interface Run {
  clientId: string;
  now: Date;
  secret: () => string;
}

interface Example {
  /** As the README proposes it. */
  title: string;
  path: string;
  body: (run: Run) => object;
  status: number;
  /** The answer, field by field. */
  answer: (run: Run) => object;
}

/**
 * The README's examples for 003, in order (see the proposed README text: one curl command
 * each, base URL `https://host/compat/totp-auth`, header `X-API-Key`).
 */
const README_EXAMPLES: Example[] = [
  {
    title: 'POST /totp/register',
    path: '/totp/register',
    body: () => ({ username: 'example_user' }),
    status: 201,
    answer: ({ clientId, now }) => ({
      username: 'example_user',
      created_at: now.toISOString(),
      verified_once: false,
      provisioning_uri: expect.stringMatching(
        new RegExp(
          `^otpauth://totp/${clientId}:example_user\\?secret=[A-Z2-7]{52}&issuer=${clientId}&algorithm=SHA1&digits=6&period=30$`,
        ),
      ),
      qr_code_base64: expect.stringMatching(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/),
    }),
  },
  {
    title: 'POST /totp/verify',
    path: '/totp/verify',
    body: ({ secret, now }) => ({ username: 'example_user', otp: oathtool(secret(), now) }),
    status: 200,
    answer: () => ({ message: 'OTP is valid', username: 'example_user', status: 'success' }),
  },
];

describe('compat 003: the TOTP registration service (COMPAT_TOTP_AUTH)', () => {
  const clock = new FakeClock(new Date('2026-05-01T00:00:05Z'));
  const clientId = uniqueName('acme');
  let t: TestApp;
  let admin: TestUser;
  let apiKey: string;
  let otherClientKey: string;

  const post = (path: string, body: object, key: string | null = apiKey) => {
    const req = t.http().post(`${BASE}${path}`);
    return (key === null ? req : req.set('x-api-key', key)).send(body);
  };
  const register = async (key = apiKey) => {
    const username = uniqueName('user');
    const res = await post('/totp/register', { username }, key);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { username, secret: secretOf(res.body.provisioning_uri) };
  };
  const verify = (username: string, otp: unknown, key = apiKey) => post('/totp/verify', { username, otp }, key);
  const invalidOtp = (username: string) => ({
    status: 401,
    body: { detail: 'Invalid OTP', message: 'Invalid OTP', username, status: 'failed' },
  });

  beforeAll(async () => {
    t = await bootApp({ COMPAT_TOTP_AUTH: 'true' }, { clock });
    admin = await createUser(t, { role: 'admin' });
    const scopes = ['devices:write', 'devices:read', 'devices:verify'];
    apiKey = await issueApiKey(t, admin, clientId, scopes);
    otherClientKey = await issueApiKey(t, admin, uniqueName('globex'), scopes);
  });
  afterAll(() => t.close());

  it('replays the README examples in order and answers each field by field', async () => {
    let provisioningUri = '';
    const runState: Run = { clientId, now: clock.now(), secret: () => secretOf(provisioningUri) };
    for (const example of README_EXAMPLES) {
      const res = await post(example.path, example.body(runState));
      expect({ status: res.status, body: res.body }, example.title).toEqual({
        status: example.status,
        body: example.answer(runState),
      });
      expect(res.headers['content-type'], example.title).toMatch(/^application\/json/);
      provisioningUri ||= res.body.provisioning_uri;
    }
  });

  it('answers a QR code of the provisioning URI as a PNG, and a 32-byte secret', async () => {
    const res = await post('/totp/register', { username: uniqueName('user') });
    const png = Buffer.from(res.body.qr_code_base64.replace(/^data:image\/png;base64,/, ''), 'base64');
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(png.length).toBeGreaterThan(200);
    // 52 base32 characters: 32 bytes (HMAC-SHA256 output), more than the 160 bits required.
    expect(secretOf(res.body.provisioning_uri)).toHaveLength(52);
  });

  it('sets verified_once on the first accepted code (the backing device is verified)', async () => {
    const { username, secret } = await register();
    const before = await t.http().get(`/api/v1/devices/${username}`).set('x-api-key', apiKey);
    expect(before.body).toMatchObject({ device_id: username, user_id: username, verified: false });
    clock.advance(STEP_MS);
    expect((await verify(username, oathtool(secret, clock.now()))).status).toBe(200);
    const after = await t.http().get(`/api/v1/devices/${username}`).set('x-api-key', apiKey);
    expect(after.body).toMatchObject({ verified: true, verified_at: clock.now().toISOString(), usage_count: 1 });
  });

  it('refuses a second registration of a username with 400, as the system did, never showing the secret again', async () => {
    const { username, secret } = await register();
    const again = await post('/totp/register', { username });
    expect({ status: again.status, body: again.body }).toEqual({
      status: 400,
      body: { detail: 'User already registered' },
    });
    expect(again.text).not.toContain(secret);
    // The first registration's secret still verifies: the repeat changed nothing.
    clock.advance(STEP_MS);
    expect((await verify(username, oathtool(secret, clock.now()))).status).toBe(200);
  });

  it('refuses a replayed code with 401 "Invalid OTP"', async () => {
    const { username, secret } = await register();
    clock.advance(STEP_MS);
    const code = oathtool(secret, clock.now());
    expect((await verify(username, code)).status).toBe(200);
    const replay = await verify(username, code);
    expect({ status: replay.status, body: replay.body }).toEqual(invalidOtp(username));
  });

  it('answers a wrong code 401 "Invalid OTP", audited on the device, not as a refused API key', async () => {
    const { username, secret } = await register();
    clock.advance(STEP_MS);
    const res = await verify(username, wrongCode(secret, clock.now()));
    expect({ status: res.status, body: res.body }).toEqual(invalidOtp(username));
    const rows = await t.dataSource.query(`SELECT action, status, details FROM audit_logs WHERE request_id = $1`, [
      res.headers['x-request-id'],
    ]);
    expect(rows).toEqual([
      {
        action: 'device.verify',
        status: 'failure',
        details: { client_id: clientId, device_id: username, reason: 'mismatch' },
      },
    ]);
  });

  it("answers another client's username exactly like a missing one, and lets each client have its own", async () => {
    const { username, secret } = await register();
    const code = oathtool(secret, clock.now());
    const notFound = { status: 404, body: { detail: 'User not found' } };
    const other = await verify(username, code, otherClientKey);
    const missing = await verify(uniqueName('user'), code);
    expect({ status: other.status, body: other.body }).toEqual(notFound);
    expect({ status: missing.status, body: missing.body }).toEqual(notFound);
    // The other client may register the same username: a separate device with its own secret.
    const theirs = await post('/totp/register', { username }, otherClientKey);
    expect(theirs.status).toBe(201);
    expect(secretOf(theirs.body.provisioning_uri)).not.toBe(secret);
  });

  it('locks the username after 10 wrong codes: 423 with Retry-After, audited, until the lock ends', async () => {
    const { username, secret } = await register();
    clock.advance(STEP_MS);
    for (let i = 0; i < 10; i++) {
      const res = await verify(username, wrongCode(secret, clock.now()));
      expect(res.status, `wrong code ${i + 1}`).toBe(401);
    }
    const locked = await verify(username, oathtool(secret, clock.now()));
    expect({ status: locked.status, body: locked.body }).toEqual({
      status: 423,
      body: { detail: 'Too many failed verifications: locked for a while' },
    });
    expect(locked.headers['retry-after']).toBe(String(15 * 60));
    const [row] = await t.dataSource.query(
      `SELECT status, details->>'reason' AS reason FROM audit_logs WHERE request_id = $1 AND action = 'device.verify'`,
      [locked.headers['x-request-id']],
    );
    expect(row).toEqual({ status: 'failure', reason: 'locked' });
    clock.advance(15 * 60_000);
    expect((await verify(username, oathtool(secret, clock.now()))).status).toBe(200);
  });

  it('rejects malformed input with 400 {detail}', async () => {
    const cases: Array<[object, string]> = [
      [{ username: 'has space' }, 'username must be 1 to 128 characters'],
      [{ username: 'a'.repeat(129) }, 'username must be 1 to 128 characters'],
      [{ username: 'example_user', extra: 1 }, 'property extra should not exist'],
    ];
    for (const [body, detail] of cases) {
      const res = await post('/totp/register', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(Object.keys(res.body)).toEqual(['detail']);
      expect(res.body.detail).toContain(detail);
    }
    for (const otp of ['12345', '1234567', 123456, 'abcdef', null]) {
      const res = await verify('example_user', otp);
      expect({ status: res.status, body: res.body }, JSON.stringify(otp)).toEqual({
        status: 400,
        body: { detail: 'otp must be 6 digits' },
      });
    }
  });

  it('answers hostile bodies with a 4xx {detail}, never a 5xx', async () => {
    for (const path of ['/totp/register', '/totp/verify']) {
      for (const body of HOSTILE_BODIES) {
        const res = await t
          .http()
          .post(`${BASE}${path}`)
          .set('x-api-key', apiKey)
          .set('content-type', 'application/json')
          .send(body);
        expect(res.status, `${path} ${body}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${path} ${body}`).toBeLessThan(500);
        expect(Object.keys(res.body), `${path} ${body}`).toEqual(['detail']);
      }
    }
  });

  it('refuses an unknown or missing API key with 401 {detail}, audited', async () => {
    const wrong = await post('/totp/register', { username: uniqueName('user') }, 'otpk_not-a-key');
    expect({ status: wrong.status, body: wrong.body }).toEqual({ status: 401, body: { detail: 'Invalid API key' } });
    const none = await post('/totp/register', { username: uniqueName('user') }, null);
    expect(none.status).toBe(401);
    expect(Object.keys(none.body)).toEqual(['detail']);
    const rows = await t.dataSource.query(
      `SELECT actor_type, details->>'code' AS code FROM audit_logs
        WHERE action = 'authn.failed' AND request_id = ANY($1) ORDER BY id`,
      [[wrong.headers['x-request-id'], none.headers['x-request-id']]],
    );
    expect(rows).toEqual([
      { actor_type: 'anonymous', code: 'INVALID_API_KEY' },
      { actor_type: 'anonymous', code: 'AUTHENTICATION_REQUIRED' },
    ]);
  });

  it('documents the routes under their own tag in the OpenAPI document', async () => {
    const res = await t.http().get('/docs/openapi.json');
    const paths = Object.entries(res.body.paths as Record<string, Record<string, { tags: string[] }>>).filter(
      ([path]) => path.startsWith(`${BASE}/`),
    );
    expect(paths.map(([path]) => path).sort()).toEqual([`${BASE}/totp/register`, `${BASE}/totp/verify`]);
    for (const [, item] of paths) {
      for (const operation of Object.values(item)) expect(operation.tags).toEqual(['compat 003: TOTP registration']);
    }
    expect(res.body.paths[`${BASE}/totp/verify`].post.responses['401'].content).toEqual({
      'application/json': { schema: { $ref: '#/components/schemas/TotpRejectedDto' } },
    });
  });
});

describe('compat 003 under the default per-caller rate limit of the devices routes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootApp({ COMPAT_TOTP_AUTH: 'true', RATE_LIMIT_DEFAULT_PER_MINUTE: '3', RATE_LIMIT_MULTIPLIER: '1' });
  });
  afterAll(() => t.close());

  it('answers the request past the limit 429 {detail}, with Retry-After', async () => {
    const admin = await createUser(t, { role: 'admin' });
    const key = await issueApiKey(t, admin, uniqueName('acme'), ['devices:verify']);
    const verify = () =>
      t.http().post(`${BASE}/totp/verify`).set('x-api-key', key).send({ username: 'example_user', otp: '123456' });
    for (let i = 0; i < 3; i++) expect((await verify()).status).toBe(404);
    const limited = await verify();
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(limited.body).toEqual({ detail: `Too many requests; retry after ${retryAfter} seconds` });
  });
});

describe('compat 003 switched off (the default)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootApp();
  });
  afterAll(() => t.close());

  it('answers 404 on both routes of the system', async () => {
    const admin = await createUser(t, { role: 'admin' });
    const key = await issueApiKey(t, admin, uniqueName('acme'), ['devices:write', 'devices:verify']);
    for (const [path, body] of [
      ['/totp/register', { username: 'example_user' }],
      ['/totp/verify', { username: 'example_user', otp: '123456' }],
    ] as const) {
      const res = await t.http().post(`${BASE}${path}`).set('x-api-key', key).send(body);
      expect(res.status, path).toBe(404);
      expect(res.body.code, path).toBe('NOT_FOUND');
    }
  });
});
