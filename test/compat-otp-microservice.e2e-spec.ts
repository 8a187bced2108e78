import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from './support/fake-clock.js';
import { createUser, PASSWORD, stepUp, TestUser, uniqueName } from './support/identity.js';
import { base32Bytes, referenceHotp } from './support/reference-totp.js';
import { bootApp, TestApp } from './support/test-app.js';

const BASE = '/compat/otp-microservice';
const START = new Date('2026-03-02T09:00:10Z');
const GITHUB_SECRET = 'JBSWY3DPEHPK3PXP';
const BACKUP_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

/** RFC 4226 HOTP over a base32 secret, by the tests' own reference arithmetic. */
const hotp = (base32: string, counter: number, digits = 6): string =>
  referenceHotp(base32Bytes(base32), counter, { digits });

/** RFC 6238 TOTP (30 s steps) at a time. */
const totp = (base32: string, at: Date): string => hotp(base32, Math.floor(at.getTime() / 30_000));

const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
const INTEGER = expect.any(Number);

interface Context {
  alice: { username: string; email: string; token?: string; id?: number };
  admin: { token?: string };
}

/**
 * The replaced microservice's examples, in order: the request as its clients send it and the
 * answer they expect. The README's examples are these (keep the two the same).
 */
interface Example {
  title: string;
  method: 'get' | 'post';
  path: string;
  as?: 'alice' | 'admin';
  form?: (c: Context) => Record<string, string>;
  json?: (c: Context) => unknown;
  status: number;
  body: (c: Context) => unknown;
  keep?: (c: Context, res: Response) => void;
}

const EXAMPLES: Example[] = [
  {
    title: 'signs up with POST /users/',
    method: 'post',
    path: '/users/',
    json: (c) => ({ username: c.alice.username, email: c.alice.email, password: PASSWORD }),
    status: 200,
    body: (c) => ({
      id: INTEGER,
      username: c.alice.username,
      email: c.alice.email,
      is_active: true,
      is_admin: false,
      mfa_enabled: false,
      created_at: ISO,
    }),
    keep: (c, res) => (c.alice.id = res.body.id),
  },
  {
    title: 'gets a bearer token from the OAuth2 password form at POST /token',
    method: 'post',
    path: '/token',
    form: (c) => ({ grant_type: 'password', username: c.alice.username, password: PASSWORD, scope: '' }),
    status: 200,
    body: () => ({
      access_token: expect.any(String),
      token_type: 'bearer',
      refresh_token: expect.any(String),
      expires_in: 900,
    }),
    keep: (c, res) => (c.alice.token = res.body.access_token),
  },
  {
    title: 'reads the signed-in user at GET /users/me/, with the id of the sign-up',
    method: 'get',
    path: '/users/me/',
    as: 'alice',
    status: 200,
    body: (c) => ({
      id: c.alice.id,
      username: c.alice.username,
      email: c.alice.email,
      is_active: true,
      is_admin: false,
      mfa_enabled: false,
      created_at: ISO,
    }),
  },
  {
    title: 'creates a TOTP configuration, numbered 1 among hers, its secret in this answer only',
    method: 'post',
    path: '/otp/configs/',
    as: 'alice',
    json: (c) => ({
      name: 'GitHub',
      otp_type: 'totp',
      secret: GITHUB_SECRET,
      issuer: 'GitHub',
      account_name: c.alice.email,
    }),
    status: 200,
    body: (c) => ({
      id: 1,
      name: 'GitHub',
      otp_type: 'totp',
      algorithm: 'sha1',
      digits: 6,
      interval: 30,
      counter: null,
      issuer: 'GitHub',
      account_name: c.alice.email,
      is_active: true,
      created_at: ISO,
      updated_at: ISO,
      secret: GITHUB_SECRET,
      provisioning_uri: `otpauth://totp/GitHub:${encodeURIComponent(c.alice.email)}?secret=${GITHUB_SECRET}&issuer=GitHub&algorithm=SHA1&digits=6&period=30`,
    }),
  },
  {
    title: 'creates an HOTP configuration, numbered 2',
    method: 'post',
    path: '/otp/configs/',
    as: 'alice',
    json: () => ({ name: 'Backup', otp_type: 'hotp', secret: BACKUP_SECRET, counter: 0 }),
    status: 200,
    body: () =>
      expect.objectContaining({
        id: 2,
        name: 'Backup',
        otp_type: 'hotp',
        interval: null,
        counter: 0,
        secret: BACKUP_SECRET,
      }),
  },
  {
    title: 'lists her configurations as a bare list, newest first',
    method: 'get',
    path: '/otp/configs/?skip=0&limit=10',
    as: 'alice',
    status: 200,
    body: () => [
      expect.objectContaining({ id: 2, name: 'Backup' }),
      expect.objectContaining({ id: 1, name: 'GitHub' }),
    ],
  },
  {
    title: 'reads one configuration by its integer id, without the secret',
    method: 'get',
    path: '/otp/configs/1',
    as: 'alice',
    status: 200,
    body: (c) => ({
      id: 1,
      name: 'GitHub',
      otp_type: 'totp',
      algorithm: 'sha1',
      digits: 6,
      interval: 30,
      counter: null,
      issuer: 'GitHub',
      account_name: c.alice.email,
      is_active: true,
      created_at: ISO,
      updated_at: ISO,
    }),
  },
  {
    title: 'generates the current code as otp_code',
    method: 'post',
    path: '/otp/generate',
    as: 'alice',
    json: () => ({ config_id: 1 }),
    status: 200,
    body: () => ({
      otp_code: totp(GITHUB_SECRET, START),
      config_id: 1,
      otp_type: 'totp',
      remaining_seconds: 20,
      interval: 30,
      generated_at: START.toISOString(),
    }),
  },
  {
    title: 'validates an otp_code computed independently',
    method: 'post',
    path: '/otp/validate',
    as: 'alice',
    json: () => ({ config_id: 1, otp_code: totp(GITHUB_SECRET, START) }),
    status: 200,
    body: () => ({ is_valid: true, config_id: 1, message: 'The code is valid.', drift: 0 }),
  },
  {
    title: 'refuses the same code a second time (one use per step)',
    method: 'post',
    path: '/otp/validate',
    as: 'alice',
    json: () => ({ config_id: 1, otp_code: totp(GITHUB_SECRET, START) }),
    status: 200,
    body: () => ({ is_valid: false, config_id: 1, message: 'The code is not valid.' }),
  },
  {
    title: 'generates in bulk from a bare list of ids; an id not hers answers CONFIG_NOT_FOUND in its place',
    method: 'post',
    path: '/otp/bulk/generate',
    as: 'alice',
    json: () => [1, 2, 99],
    status: 200,
    body: () => ({
      results: [
        { config_id: 1, otp_code: totp(GITHUB_SECRET, START), remaining_seconds: 20 },
        { config_id: 2, otp_code: hotp(BACKUP_SECRET, 0), counter: 0 },
        { config_id: 99, error: 'CONFIG_NOT_FOUND' },
      ],
      generated_at: START.toISOString(),
    }),
  },
  {
    title: 'counts her configurations, generations and validations',
    method: 'get',
    path: '/otp/stats',
    as: 'alice',
    status: 200,
    body: () => ({
      total_configs: 2,
      active_configs: 2,
      total_generations: 3,
      total_validations: 2,
      successful_validations: 1,
    }),
  },
  {
    title: 'answers the enhanced stats with the success rate as a percentage',
    method: 'get',
    path: '/otp/stats/enhanced',
    as: 'alice',
    status: 200,
    body: () =>
      expect.objectContaining({
        total_validations: 2,
        successful_validations: 1,
        failed_validations: 1,
        success_rate: 50,
        last_7_days: expect.arrayContaining([
          { date: '2026-03-02', generations: 3, validations: 2, successful_validations: 1 },
        ]),
      }),
  },
  {
    title: 'lists her recent events with integer config ids and no codes',
    method: 'get',
    path: '/otp/events/recent?limit=3',
    as: 'alice',
    status: 200,
    body: () =>
      expect.arrayContaining([
        expect.objectContaining({ config_id: 2, config_name: 'Backup', event_type: 'generate' }),
        expect.objectContaining({ config_id: 1, config_name: 'GitHub', event_type: 'generate' }),
      ]),
  },
  {
    title: 'answers her metrics with the success rate as a percentage',
    method: 'get',
    path: '/user/metrics',
    as: 'alice',
    status: 200,
    body: () =>
      expect.objectContaining({ total_configs: 2, total_validations: 2, failed_validations: 1, success_rate: 50 }),
  },
  {
    title: 'gets an administrator a token with a JSON body as well',
    method: 'post',
    path: '/token',
    json: () => ({ username: 'admin', password: 'Admin-Password-1!' }),
    status: 200,
    body: () => expect.objectContaining({ access_token: expect.any(String), token_type: 'bearer' }),
    keep: (c, res) => (c.admin.token = res.body.access_token),
  },
  {
    title: 'answers the system metrics to an administrator',
    method: 'get',
    path: '/system/metrics',
    as: 'admin',
    status: 200,
    body: () =>
      expect.objectContaining({
        total_users: INTEGER,
        active_users: INTEGER,
        total_otp_configs: INTEGER,
        total_validations: INTEGER,
        success_rate: INTEGER,
        mfa_enabled_users: INTEGER,
        locked_accounts: INTEGER,
        generated_at: START.toISOString(),
      }),
  },
  {
    title: 'lists the audit log as a bare list, newest first, two at a time',
    method: 'get',
    path: '/audit/logs?skip=0&limit=2',
    as: 'admin',
    status: 200,
    body: () => [
      expect.objectContaining({ id: INTEGER, action: expect.any(String), timestamp: ISO }),
      expect.objectContaining({ id: INTEGER, action: expect.any(String), timestamp: ISO }),
    ],
  },
];

describe('compatibility with the replaced OTP microservice (COMPAT_OTP_MICROSERVICE)', () => {
  const clock = new FakeClock(START);
  let t: TestApp;
  const context: Context = {
    alice: { username: uniqueName('alice'), email: `${uniqueName('alice')}@example.com` },
    admin: {},
  };

  beforeAll(async () => {
    t = await bootApp({ COMPAT_OTP_MICROSERVICE: 'true' }, { clock });
  });
  afterAll(() => t?.close());

  const send = (example: Example) => {
    const token = example.as ? context[example.as].token : undefined;
    let call = t.http()[example.method](`${BASE}${example.path}`);
    if (token) call = call.set('authorization', `Bearer ${token}`);
    if (example.form) return call.type('form').send(example.form(context));
    return example.json ? call.send(example.json(context) as object) : call;
  };

  describe('its examples, replayed in order', () => {
    for (const example of EXAMPLES) {
      it(example.title, async () => {
        const res = await send(example);
        expect(res.status, JSON.stringify(res.body)).toBe(example.status);
        expect(res.body).toEqual(example.body(context));
        example.keep?.(context, res);
      });
    }

    it('pages the audit log with skip and limit', async () => {
      const auth = { authorization: `Bearer ${context.admin.token}` };
      const firstTwo = await t.http().get(`${BASE}/audit/logs?skip=0&limit=2`).set(auth).expect(200);
      const second = await t.http().get(`${BASE}/audit/logs?skip=1&limit=1`).set(auth).expect(200);
      expect(second.body).toEqual([firstTwo.body[1]]);
      const tooMany = await t.http().get(`${BASE}/audit/logs?limit=101`).set(auth);
      expect(tooMany.status).toBe(422);
      expect(tooMany.body.detail[0]).toMatchObject({ loc: expect.arrayContaining(['limit']), type: 'value_error' });
    });

    it('names the acting user of an audit record by the integer id of /users/me/', async () => {
      const auth = { authorization: `Bearer ${context.admin.token}` };
      const logs = await t.http().get(`${BASE}/audit/logs?limit=100`).set(auth).expect(200);
      const created = logs.body.find((r: { action: string }) => r.action === 'otp_config.create');
      expect(created).toMatchObject({ user_id: context.alice.id, actor_type: 'user', status: 'success' });
    });

    it('answers the audit timeline to an administrator', async () => {
      const auth = { authorization: `Bearer ${context.admin.token}` };
      const res = await t.http().get(`${BASE}/audit/timeline?hours=1`).set(auth).expect(200);
      expect(res.body).toMatchObject({ hours: 1, buckets: [expect.objectContaining({ total: expect.any(Number) })] });
    });
  });

  describe('paths, bodies and errors as the replaced system had them', () => {
    let bob: TestUser;
    beforeAll(async () => {
      bob = await createUser(t);
    });

    it('answers its paths with and without the trailing slash, and only under its prefix', async () => {
      await t.http().get(`${BASE}/users/me`).set(bob.auth).expect(200);
      await t.http().get(`${BASE}/users/me/`).set(bob.auth).expect(200);
      await t.http().get(`${BASE}/otp/configs`).set(bob.auth).expect(200);
      await t.http().get('/api/v1/users/me/').set(bob.auth).expect(404);
    });

    it('reads form bodies on its token route only', async () => {
      const own = await t
        .http()
        .post('/api/v1/auth/login')
        .type('form')
        .send({ username: bob.username, password: PASSWORD });
      expect(own.status).toBe(415);
      const other = await t.http().post(`${BASE}/otp/generate`).set(bob.auth).type('form').send({ config_id: '1' });
      expect(other.status).toBe(415);
      expect(other.body).toEqual({ detail: 'Send the body as application/json.' });
    });

    it('refuses unknown and repeated form fields with a FastAPI 422', async () => {
      const unknown = await t
        .http()
        .post(`${BASE}/token`)
        .type('form')
        .send(`username=${bob.username}&password=${encodeURIComponent(PASSWORD)}&role=admin`);
      expect(unknown.status).toBe(422);
      expect(unknown.body.detail).toEqual([
        { loc: ['body', 'role'], msg: 'property role should not exist', type: 'value_error' },
      ]);
      const repeated = await t.http().post(`${BASE}/token`).type('form').send(`username=a&username=b&password=x`);
      expect(repeated.status).toBe(422);
      expect(repeated.body.detail.map((d: { loc: unknown[] }) => d.loc)).toContainEqual(['body', 'username']);
    });

    it('answers a bad config_id with a FastAPI validation error', async () => {
      const res = await t
        .http()
        .post(`${BASE}/otp/validate`)
        .set(bob.auth)
        .send({ config_id: 'abc', otp_code: '123456' });
      expect(res.status).toBe(422);
      expect(res.body.detail).toContainEqual({
        loc: ['body', 'config_id'],
        msg: expect.stringContaining('config_id'),
        type: 'value_error',
      });
      const path = await t.http().get(`${BASE}/otp/configs/0`).set(bob.auth);
      expect(path.status).toBe(422);
      const bulk = await t
        .http()
        .post(`${BASE}/otp/bulk/generate`)
        .set(bob.auth)
        .send({ config_ids: [1] });
      expect(bulk.status).toBe(422);
      expect(bulk.body.detail[0].loc).toEqual(['body']);
    });

    it("shows a second person none of the first one's configurations by integer id", async () => {
      const own = await t
        .http()
        .post(`${BASE}/otp/configs/`)
        .set(bob.auth)
        .send({ name: 'Mine', secret: BACKUP_SECRET });
      expect(own.status).toBe(200);
      expect(own.body.id).toBe(1); // numbered among his own
      const missing = await t.http().get(`${BASE}/otp/configs/999`).set(bob.auth);
      const hers = await t.http().get(`${BASE}/otp/configs/2`).set(bob.auth);
      expect(missing.status).toBe(404);
      expect(hers.status).toBe(404);
      expect(hers.body).toEqual(missing.body);
      expect(hers.body).toEqual({ detail: 'OTP configuration not found' });
      const mine = await t.http().get(`${BASE}/otp/configs/1`).set(bob.auth).expect(200);
      expect(mine.body.name).toBe('Mine');
      const generate = await t.http().post(`${BASE}/otp/generate`).set(bob.auth).send({ config_id: 2 });
      expect(generate.status).toBe(404);
      const validate = await t
        .http()
        .post(`${BASE}/otp/validate`)
        .set(bob.auth)
        .send({ config_id: 2, otp_code: '123456' });
      expect(validate.status).toBe(404);
      const bulk = await t.http().post(`${BASE}/otp/bulk/generate`).set(bob.auth).send([2]);
      expect(bulk.body.results).toEqual([{ config_id: 2, error: 'CONFIG_NOT_FOUND' }]);
      const list = await t.http().get(`${BASE}/otp/configs/`).set(bob.auth).expect(200);
      expect(list.body.map((c: { name: string }) => c.name)).toEqual(['Mine']);
    });

    it('keeps a configuration made through /api/v1 under one stable number', async () => {
      const made = await t.http().post('/api/v1/otp/configs').set(bob.auth).send({ name: 'Made elsewhere' });
      expect(made.status).toBe(201);
      const first = await t.http().get(`${BASE}/otp/configs/`).set(bob.auth).expect(200);
      const again = await t.http().get(`${BASE}/otp/configs/`).set(bob.auth).expect(200);
      const numberOf = (body: Array<{ id: number; name: string }>) => body.find((c) => c.name === 'Made elsewhere')?.id;
      expect(numberOf(first.body)).toBe(2);
      expect(numberOf(again.body)).toBe(2);
      await t
        .http()
        .delete(`${BASE}/otp/configs/2`)
        .set(bob.auth)
        .expect(200, { message: 'OTP configuration deleted' });
      await t.http().get(`${BASE}/otp/configs/2`).set(bob.auth).expect(404);
      const next = await t.http().post(`${BASE}/otp/configs/`).set(bob.auth).send({ name: 'Next' }).expect(200);
      expect(next.body.id).toBe(3); // numbers are never reused
    });

    it('numbers configurations first seen by concurrent requests once, the same for every answer', async () => {
      const gina = await createUser(t);
      for (const name of ['a', 'b', 'c']) {
        await t.http().post('/api/v1/otp/configs').set(gina.auth).send({ name }).expect(201);
      }
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => t.http().get(`${BASE}/otp/configs/`).set(gina.auth)),
      );
      const numbering = answers.map((res) => {
        expect(res.status).toBe(200);
        return Object.fromEntries(res.body.map((c: { id: number; name: string }) => [c.name, c.id]));
      });
      for (const seen of numbering) expect(seen).toEqual(numbering[0]);
      expect(Object.values(numbering[0]).sort()).toEqual([1, 2, 3]);
    });

    it('consumes an HOTP counter with counter_increment, as the own generate does', async () => {
      const hal = await createUser(t);
      await t
        .http()
        .post(`${BASE}/otp/configs/`)
        .set(hal.auth)
        .send({ name: 'Token', otp_type: 'hotp', secret: BACKUP_SECRET, counter: 5 })
        .expect(200);
      const res = await t
        .http()
        .post(`${BASE}/otp/generate`)
        .set(hal.auth)
        .send({ config_id: 1, counter_increment: true });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toEqual({
        otp_code: hotp(BACKUP_SECRET, 5),
        config_id: 1,
        otp_type: 'hotp',
        counter: 5,
        next_counter: 6,
        generated_at: START.toISOString(),
      });
      const stored = await t.http().get(`${BASE}/otp/configs/1`).set(hal.auth).expect(200);
      expect(stored.body.counter).toBe(6);
    });

    it('refuses a form body over the body limit with 413', async () => {
      const res = await t
        .http()
        .post(`${BASE}/token`)
        .type('form')
        .send(`username=${'a'.repeat(t.config.bodyLimitBytes)}&password=x`);
      expect(res.status).toBe(413);
      expect(res.body).toEqual({ detail: expect.any(String) });
    });

    it('documents its routes under a tag of their own', async () => {
      const { body } = await t.http().get('/docs/openapi.json').expect(200);
      const tagged = Object.entries(body.paths as Record<string, Record<string, { tags?: string[] }>>)
        .filter(([, operations]) =>
          Object.values(operations).some((op) => op.tags?.includes('compat: otp-microservice')),
        )
        .map(([path]) => path);
      expect(tagged).toEqual(
        expect.arrayContaining([
          `${BASE}/token`,
          `${BASE}/users`,
          `${BASE}/users/me`,
          `${BASE}/otp/configs`,
          `${BASE}/otp/configs/{config_id}`,
          `${BASE}/otp/bulk/generate`,
          `${BASE}/audit/logs`,
          `${BASE}/users/me/mfa/disable`,
        ]),
      );
      expect(Object.keys(body.paths[`${BASE}/token`].post.requestBody.content)).toContain(
        'application/x-www-form-urlencoded',
      );
    });

    it('answers FastAPI details to refused callers, and audits the refusals', async () => {
      const anonymous = await t.http().get(`${BASE}/users/me/`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toEqual({ detail: 'Not authenticated' });
      const forged = await t.http().get(`${BASE}/users/me/`).set('authorization', 'Bearer not-a-token');
      expect(forged.status).toBe(401);
      expect(forged.body).toEqual({ detail: 'Could not validate credentials' });
      const notAdmin = await t.http().get(`${BASE}/system/metrics`).set(bob.auth);
      expect(notAdmin.status).toBe(403);
      expect(notAdmin.body).toEqual({ detail: 'Not enough permissions' });
      const rows: Array<{ action: string; details: { code?: string } }> = await t.dataSource.query(
        `SELECT action, details FROM audit_logs WHERE action IN ('authn.failed', 'authz.denied') AND resource_id LIKE $1`,
        [`% ${BASE}/%`],
      );
      const codes = rows.map((r) => `${r.action}:${r.details.code}`);
      expect(codes).toEqual(
        expect.arrayContaining([
          'authn.failed:AUTHENTICATION_REQUIRED',
          'authn.failed:INVALID_TOKEN',
          'authz.denied:INSUFFICIENT_ROLE',
        ]),
      );
    });

    it('says a taken username as FastAPI services do', async () => {
      const res = await t
        .http()
        .post(`${BASE}/users/`)
        .send({ username: bob.username, email: `${uniqueName('other')}@example.com`, password: PASSWORD });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ detail: 'Username already registered' });
    });

    it('changes the password with current_password and new_password', async () => {
      const carol = await createUser(t);
      const res = await t
        .http()
        .post(`${BASE}/users/me/change-password`)
        .set(carol.auth)
        .send({ current_password: PASSWORD, new_password: 'Another-Horse-7!' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toEqual({ message: 'Password changed successfully' });
      const old = await t
        .http()
        .post(`${BASE}/token`)
        .type('form')
        .send({ username: carol.username, password: PASSWORD });
      expect(old.status).toBe(401);
      expect(old.body).toEqual({ detail: 'Incorrect username or password' });
      await t
        .http()
        .post(`${BASE}/token`)
        .type('form')
        .send({ username: carol.username, password: 'Another-Horse-7!' })
        .expect(200);
    });
  });

  describe('the rules of the service, through these routes', () => {
    it('locks /token after five failed attempts, as sign-in does, even for the right password', async () => {
      const dave = await createUser(t);
      for (let i = 0; i < 5; i++) {
        const wrong = await t
          .http()
          .post(`${BASE}/token`)
          .type('form')
          .send({ username: dave.username, password: 'Wrong-Password-1!' });
        expect(wrong.status).toBe(401);
      }
      const locked = await t
        .http()
        .post(`${BASE}/token`)
        .type('form')
        .send({ username: dave.username, password: PASSWORD });
      expect(locked.status).toBe(423);
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
      expect(locked.body).toEqual({ detail: expect.stringContaining('locked') });
      const [lockout] = await t.dataSource.query(
        `SELECT count(*)::int AS n FROM audit_logs WHERE action = 'auth.lockout' AND resource_id = $1`,
        [dave.id],
      );
      expect(lockout.n).toBe(1);
    });

    it('turns MFA on after a step-up, asks /token for the mfa_code, and turns it off with password and code', async () => {
      const erin = await createUser(t);
      const refused = await t.http().post(`${BASE}/users/me/mfa/enable`).set(erin.auth);
      expect(refused.status).toBe(403);
      expect(refused.body.detail).toContain('/api/v1/auth/step-up');
      await stepUp(t, erin);
      const enabled = await t.http().post(`${BASE}/users/me/mfa/enable`).set(erin.auth).expect(200);
      expect(enabled.body).toMatchObject({
        mfa_secret: expect.stringMatching(/^[A-Z2-7]+$/),
        mfa_uri: expect.stringContaining('otpauth://totp/'),
      });
      const verified = await t
        .http()
        .post(`${BASE}/users/me/mfa/verify`)
        .set(erin.auth)
        .send({ mfa_code: totp(enabled.body.mfa_secret, START) });
      expect(verified.status, JSON.stringify(verified.body)).toBe(200);
      expect(verified.body).toMatchObject({ mfa_enabled: true, recovery_codes: expect.any(Array) });

      const withoutCode = await t
        .http()
        .post(`${BASE}/token`)
        .type('form')
        .send({ username: erin.username, password: PASSWORD });
      expect(withoutCode.status).toBe(401);
      expect(withoutCode.body).toEqual({ detail: 'MFA code required' });
      clock.advance(30_000); // the next step: the enrolment code was used once
      const withCode = await t
        .http()
        .post(`${BASE}/token`)
        .type('form')
        .send({ username: erin.username, password: PASSWORD, mfa_code: totp(enabled.body.mfa_secret, clock.now()) });
      expect(withCode.status, JSON.stringify(withCode.body)).toBe(200);
      expect(withCode.body.token_type).toBe('bearer');

      const session = { authorization: `Bearer ${withCode.body.access_token}` };
      await stepUp(t, { auth: session }, verified.body.recovery_codes[0]);
      clock.advance(30_000);
      const disabled = await t
        .http()
        .post(`${BASE}/users/me/mfa/disable`)
        .set(session)
        .send({ password: PASSWORD, mfa_code: totp(enabled.body.mfa_secret, clock.now()) });
      expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
      expect(disabled.body).toEqual({ mfa_enabled: false, message: 'MFA disabled' });
      const me = await t.http().get(`${BASE}/users/me/`).set(session).expect(200);
      expect(me.body.mfa_enabled).toBe(false);
      clock.set(START);
    });

    it('locks a configuration after ten wrong codes and limits /otp/validate to 20 a minute, as the own route', async () => {
      const limited = await bootApp({ COMPAT_OTP_MICROSERVICE: 'true', RATE_LIMIT_MULTIPLIER: '1' }, { clock });
      try {
        const frank = await createUser(limited);
        await limited.http().post(`${BASE}/otp/configs/`).set(frank.auth).send({ name: 'One' }).expect(200);
        const statuses: number[] = [];
        for (let i = 0; i < 21; i++) {
          const res = await limited
            .http()
            .post(`${BASE}/otp/validate`)
            .set(frank.auth)
            .send({ config_id: 1, otp_code: '000000' });
          statuses.push(res.status);
        }
        // Ten wrong codes lock the configuration (the service's lock), the 21st request is over the limit.
        expect(statuses).toEqual([...Array(10).fill(200), ...Array(10).fill(423), 429]);
      } finally {
        await limited.close();
      }
    });
  });
});

describe('the replaced OTP microservice routes with the switch off (the default)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootApp();
  });
  afterAll(() => t?.close());

  it('answers 404 on every one of its routes', async () => {
    const user = await createUser(t);
    for (const [method, path] of [
      ['post', '/token'],
      ['post', '/users/'],
      ['get', '/users/me/'],
      ['get', '/otp/configs/'],
      ['post', '/otp/generate'],
      ['get', '/audit/logs'],
    ] as const) {
      const res = await t.http()[method](`${BASE}${path}`).set(user.auth).send({});
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.code).toBe('NOT_FOUND');
    }
  });
});
