import { execFileSync } from 'node:child_process';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from './support/fake-clock.js';
import { createUser, issueApiKey, TestUser } from './support/identity.js';
import { referenceTotp } from './support/reference-totp.js';
import { bootApp, TestApp } from './support/test-app.js';

/** The base URL the manager's client is pointed at: the only change besides the sign-in. */
const BASE = '/compat/mfa-manager';
const NOW = '2026-05-01T12:00:07Z';
const GITHUB_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const AWS_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

interface Example {
  path: string;
  status: number;
  body: unknown;
}

/**
 * The README examples, in order, as the manager's client sends them (`GET <base>/api/…` with
 * the person's `Authorization: Bearer <access token>`), at 2026-05-01T12:00:07Z. `{{GitHub}}`
 * stands for that account's id. Mirrors the README text.
 */
const README_EXAMPLES: Example[] = [
  {
    path: '/api/codes',
    status: 200,
    body: [
      { account_name: 'AWS', id: '{{AWS}}', remaining_time: 23, totp_code: '866780' },
      { account_name: 'GitHub', id: '{{GitHub}}', remaining_time: 23, totp_code: '277295' },
    ],
  },
  {
    path: '/api/code/{{GitHub}}',
    status: 200,
    body: { account_name: 'GitHub', id: '{{GitHub}}', remaining_time: 23, totp_code: '277295' },
  },
  { path: '/api/code/5f0c3c52-7c1e-4a39-9d0b-2f6b7d1c9a10', status: 404, body: { error: 'Account not found' } },
  { path: '/api/code/1', status: 404, body: { error: 'Account not found' } },
];

/** An answer as the caller sees it: status, content type and the body's exact text. */
const seen = (res: Response) => ({ status: res.status, type: res.headers['content-type'], text: res.text });

describe('compat 001: MFA manager', () => {
  const clock = new FakeClock(new Date(NOW));
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  /** Alice's configuration ids by name. */
  const ids: Record<string, string> = {};

  const createConfig = async (t: TestApp, user: TestUser, body: Record<string, unknown>): Promise<string> => {
    const res = await t.http().post('/api/v1/otp/configs').set(user.auth).send(body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id;
  };
  /** Puts the ids in for their `{{name}}` placeholders. */
  const filled = <T>(value: T): T => JSON.parse(JSON.stringify(value).replace(/\{\{(\w+)\}\}/g, (_, n) => ids[n]));
  const get = (path: string, user: Pick<TestUser, 'auth'>) => t.http().get(`${BASE}${path}`).set(user.auth);

  beforeAll(async () => {
    t = await bootApp({ COMPAT_MFA_MANAGER: 'true' }, { clock });
    alice = await createUser(t);
    bob = await createUser(t);
    ids.GitHub = await createConfig(t, alice, { name: 'GitHub', secret: GITHUB_SECRET, account_name: 'alice' });
    ids.AWS = await createConfig(t, alice, { name: 'AWS', secret: AWS_SECRET, issuer: 'Amazon' });
    ids.Bank = await createConfig(t, alice, { name: 'Bank token', otp_type: 'hotp', secret: AWS_SECRET });
    ids.Old = await createConfig(t, alice, { name: 'Old', secret: GITHUB_SECRET, is_active: false });
    ids.BobMail = await createConfig(t, bob, { name: 'Mail', secret: GITHUB_SECRET });
  });
  afterAll(() => t?.close());

  it('answers the README examples field by field, as bare JSON', async () => {
    // The literal codes of the examples are what RFC 6238 gives at that time.
    expect(referenceTotp(GITHUB_SECRET, Date.parse(NOW) / 1000)).toBe('277295');
    expect(referenceTotp(AWS_SECRET, Date.parse(NOW) / 1000)).toBe('866780');
    for (const example of README_EXAMPLES) {
      const res = await get(filled(example.path), alice);
      expect({ status: res.status, body: res.body }, example.path).toStrictEqual({
        status: example.status,
        body: filled(example.body),
      });
      expect(res.headers['content-type'], example.path).toMatch(/^application\/json/);
    }
  });

  it('lists the codes an independent RFC 6238 computation and oathtool give, with the seconds left', async () => {
    for (const at of ['2026-05-01T12:00:29Z', '2026-05-01T12:00:30Z', '2026-05-01T12:04:59Z']) {
      clock.set(at);
      const seconds = Date.parse(at) / 1000;
      const listed = await get('/api/codes', alice);
      expect(listed.body).toStrictEqual([
        {
          account_name: 'AWS',
          id: ids.AWS,
          remaining_time: 30 - (seconds % 30),
          totp_code: referenceTotp(AWS_SECRET, seconds),
        },
        {
          account_name: 'GitHub',
          id: ids.GitHub,
          remaining_time: 30 - (seconds % 30),
          totp_code: referenceTotp(GITHUB_SECRET, seconds),
        },
      ]);
      const oathtool = execFileSync('oathtool', [
        '--totp',
        '-b',
        GITHUB_SECRET,
        '--now',
        at.replace('T', ' ').replace('Z', ' UTC'),
      ])
        .toString()
        .trim();
      expect((await get(`/api/code/${ids.GitHub}`, alice)).body.totp_code).toBe(oathtool);
    }
    clock.set(NOW);
  });

  it("answers another person's account exactly like an unknown id, and lists only one's own", async () => {
    const unknown = seen(await get('/api/code/5f0c3c52-7c1e-4a39-9d0b-2f6b7d1c9a10', bob));
    expect(unknown.status).toBe(404);
    expect(seen(await get(`/api/code/${ids.GitHub}`, bob))).toEqual(unknown);
    expect(seen(await get(`/api/code/${ids.BobMail}`, alice))).toEqual(
      seen(await get('/api/code/5f0c3c52-7c1e-4a39-9d0b-2f6b7d1c9a10', alice)),
    );
    expect((await get('/api/codes', bob)).body).toStrictEqual([
      { account_name: 'Mail', id: ids.BobMail, remaining_time: 23, totp_code: '277295' },
    ]);
  });

  it('treats HOTP and deactivated configurations, which it does not list, as unknown ids', async () => {
    const unknown = seen(await get('/api/code/5f0c3c52-7c1e-4a39-9d0b-2f6b7d1c9a10', alice));
    expect(seen(await get(`/api/code/${ids.Bank}`, alice))).toEqual(unknown);
    expect(seen(await get(`/api/code/${ids.Old}`, alice))).toEqual(unknown);
    const listed = (await get('/api/codes', alice)).body.map((item: { id: string }) => item.id);
    expect(listed).not.toContain(ids.Bank);
    expect(listed).not.toContain(ids.Old);
  });

  it("requires a person's token, and audits a refusal as /api/v1/otp/codes does", async () => {
    const compat = await t.http().get(`${BASE}/api/codes`);
    const api = await t.http().get('/api/v1/otp/codes');
    expect(compat.status).toBe(401);
    expect(Object.keys(compat.body)).toEqual(['error']);
    expect(compat.body.error).toBe(api.body.detail);
    const rowOf = async (res: Response) => {
      const [row] = await t.dataSource.query(
        `SELECT actor_type, action, resource, resource_id, status, details FROM audit_logs WHERE request_id = $1`,
        [res.headers['x-request-id']],
      );
      return row as Record<string, unknown>;
    };
    expect(await rowOf(compat)).toEqual({ ...(await rowOf(api)), resource_id: 'GET /compat/mfa-manager/api/codes' });
    expect(await rowOf(compat)).toMatchObject({ action: 'authn.failed', status: 'failure' });

    // An enterprise API key is no person's sign-in.
    const admin = await createUser(t, { role: 'admin' });
    const apiKey = await issueApiKey(t, admin, 'mfa-manager-client', ['keys:use']);
    const byKey = await t.http().get(`${BASE}/api/code/${ids.GitHub}`).set('x-api-key', apiKey);
    expect(byKey.status).toBe(401);
    expect(Object.keys(byKey.body)).toEqual(['error']);
  });

  it('applies the rate limit of /api/v1/otp/codes (30 a minute per person), in its error body', async () => {
    const limited = await bootApp({ COMPAT_MFA_MANAGER: 'true', RATE_LIMIT_MULTIPLIER: '1' }, { clock });
    try {
      const carol = await createUser(limited);
      await createConfig(limited, carol, { name: 'GitHub', secret: GITHUB_SECRET });
      for (let i = 0; i < 30; i++) {
        expect((await limited.http().get(`${BASE}/api/codes`).set(carol.auth)).status).toBe(200);
      }
      const refused = await limited.http().get(`${BASE}/api/codes`).set(carol.auth);
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toMatch(/^[1-9]\d*$/);
      expect(refused.body).toStrictEqual({
        error: `Too many requests; retry after ${refused.headers['retry-after']} seconds`,
      });
    } finally {
      await limited.close();
    }
  });

  it('answers hostile ids with a 4xx in the bare error body, never a 5xx', async () => {
    for (const id of ['%00', '%ZZ', 'x'.repeat(300), '%F0%9F%94%91', '..%2F..%2Fapi%2Fcodes', '-1', '1e20']) {
      const res = await get(`/api/code/${id}`, alice);
      expect(res.status, id).toBeGreaterThanOrEqual(400);
      expect(res.status, id).toBeLessThan(500);
      expect(res.headers['content-type'], id).toMatch(/^application\/json/);
      expect(Object.keys(res.body), id).toEqual(['error']);
    }
  });

  it('documents its routes under its own OpenAPI tag, errors in its bare body', async () => {
    const document = (await t.http().get('/docs/openapi.json').expect(200)).body;
    const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
    const list = document.paths[`${BASE}/api/codes`].get;
    const one = document.paths[`${BASE}/api/code/{id}`].get;
    expect(list.responses['200'].content).toEqual({
      'application/json': { schema: { type: 'array', items: ref('MfaManagerCompatCodeDto') } },
    });
    expect(one.responses['200'].content).toEqual({ 'application/json': { schema: ref('MfaManagerCompatCodeDto') } });
    for (const operation of [list, one]) {
      expect(operation.tags).toEqual(['compat 001: MFA manager']);
      expect(operation.summary).toEqual(expect.any(String));
      expect(operation.security).toEqual([{ jwt: [] }]);
      for (const status of ['401', '403', '429', '503', '4XX', '5XX']) {
        expect(operation.responses[status]?.content, status).toEqual({
          'application/json': { schema: ref('MfaManagerCompatErrorDto') },
        });
      }
    }
    expect(one.responses['404'].content).toEqual({ 'application/json': { schema: ref('MfaManagerCompatErrorDto') } });
  });

  it('serves none of its routes while COMPAT_MFA_MANAGER is off, the default', async () => {
    const off = await bootApp({}, { clock });
    try {
      const session = await createUser(off);
      for (const path of ['/api/codes', `/api/code/${ids.GitHub}`]) {
        const res = await off.http().get(`${BASE}${path}`).set(session.auth);
        expect(res.status, path).toBe(404);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body).toMatchObject({ code: 'NOT_FOUND' });
      }
    } finally {
      await off.close();
    }
  });
});
