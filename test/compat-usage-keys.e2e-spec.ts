import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from './support/fake-clock.js';
import { createUser, issueApiKey, TestUser, uniqueName } from './support/identity.js';
import { referenceTotp } from './support/reference-totp.js';
import { bootApp, TestApp } from './support/test-app.js';

/** The base URL the system's clients are pointed at: the only change besides the credential. */
const BASE = '/compat/usage-keys';
const NOW = '2026-05-01T12:00:07Z';
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/**
 * The client's key file, as that system kept it (`{NAME: {secret, max_uses, usage_count,
 * created_at, last_used}}`), imported into the calling client's space before the examples.
 */
const KEY_FILE = {
  'deploy-approval': { secret: SECRET, max_uses: 5, usage_count: 0, created_at: '2025-01-15T10:30:00.000000' },
  'shared-unlimited': {
    secret: SECRET,
    max_uses: -1,
    usage_count: 12,
    created_at: '2025-01-15T10:30:00.000000',
    last_used: '2025-01-16T08:00:00.000000',
  },
  spent: {
    secret: SECRET,
    max_uses: 5,
    usage_count: 5,
    created_at: '2025-01-15T10:30:00.000000',
    last_used: '2025-01-16T08:00:00.000000',
  },
};

interface Example {
  request: { path: string; body: unknown };
  status: number;
  body: unknown;
}

/**
 * The README examples, in order, as the system's clients send them (`POST <base>/<route>`,
 * a JSON `{key}`, plus `X-API-Key`), at 2026-05-01T12:00:07Z. Mirrors the README text.
 */
const README_EXAMPLES: Example[] = [
  {
    request: { path: '/get-code', body: { key: 'deploy-approval' } },
    status: 200,
    body: {
      success: true,
      key: 'deploy-approval',
      code: '277295',
      remaining_time: 23,
      usage_info: { usage_count: 1, max_uses: 5, remaining_uses: 4 },
    },
  },
  {
    request: { path: '/validate-key', body: { key: 'deploy-approval' } },
    status: 200,
    body: { key: 'deploy-approval', valid: true, usage_info: { usage_count: 1, max_uses: 5, remaining_uses: 4 } },
  },
  {
    request: { path: '/key-info', body: { key: 'deploy-approval' } },
    status: 200,
    body: {
      key: 'deploy-approval',
      exists: true,
      max_uses: 5,
      usage_count: 1,
      remaining_uses: 4,
      last_used: '2026-05-01T12:00:07.000Z',
      created_at: '2025-01-15T10:30:00.000Z',
    },
  },
  {
    request: { path: '/key-info', body: { key: 'shared-unlimited' } },
    status: 200,
    body: {
      key: 'shared-unlimited',
      exists: true,
      max_uses: -1,
      usage_count: 12,
      remaining_uses: 'unlimited',
      last_used: '2025-01-16T08:00:00.000Z',
      created_at: '2025-01-15T10:30:00.000Z',
    },
  },
  {
    request: { path: '/get-code', body: { key: 'spent' } },
    status: 403,
    body: { error: 'Key has reached its usage limit (5/5 uses)' },
  },
  {
    request: { path: '/validate-key', body: { key: 'spent' } },
    status: 200,
    body: { key: 'spent', valid: false, usage_info: { usage_count: 5, max_uses: 5, remaining_uses: 0 } },
  },
  { request: { path: '/get-code', body: { key: 'no-such-key' } }, status: 404, body: { error: 'Key not found' } },
  { request: { path: '/validate-key', body: { key: 'no-such-key' } }, status: 404, body: { error: 'Key not found' } },
  { request: { path: '/key-info', body: { key: 'no-such-key' } }, status: 404, body: { error: 'Key not found' } },
  {
    request: { path: '/get-code', body: {} },
    status: 400,
    body: { error: 'key must be a string' },
  },
  {
    request: { path: '/key-info', body: { key: 'bad name!' } },
    status: 400,
    body: { error: 'key name may contain letters, digits, dot, dash, underscore, colon and @' },
  },
  {
    request: { path: '/get-code', body: { key: 'deploy-approval', uses: 2 } },
    status: 400,
    body: { error: 'property uses should not exist' },
  },
];

/** An answer as the caller sees it: status, content type and the body's exact text. */
const seen = (res: Response) => ({ status: res.status, type: res.headers['content-type'], text: res.text });

describe('compat 000: usage-count keys', () => {
  const clock = new FakeClock(new Date(NOW));
  let t: TestApp;
  let admin: TestUser;
  /** Each client's API key may use and manage its own client's keys. */
  const client = { a: { id: uniqueName('ca'), key: '' }, b: { id: uniqueName('cb'), key: '' } };
  const asA = () => ({ 'x-api-key': client.a.key });
  const asB = () => ({ 'x-api-key': client.b.key });

  const call = (route: string, auth: Record<string, string>, body: unknown) =>
    t
      .http()
      .post(`${BASE}${route}`)
      .set(auth)
      .send(body as object);
  const createKey = async (auth: Record<string, string>, body: Record<string, unknown>) => {
    const res = await t.http().post('/api/v1/keys').set(auth).send(body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };

  beforeAll(async () => {
    t = await bootApp({ COMPAT_USAGE_KEYS: 'true' }, { clock });
    admin = await createUser(t, { role: 'admin' });
    client.a.key = await issueApiKey(t, admin, client.a.id, ['keys:use', 'keys:admin']);
    client.b.key = await issueApiKey(t, admin, client.b.id, ['keys:use', 'keys:admin']);
    const imported = await t.http().post('/api/v1/keys/import').set(asA()).send({ keys: KEY_FILE });
    expect(imported.body).toMatchObject({ created: 3, invalid: 0 });
  });
  afterAll(() => t?.close());

  it('answers the README examples field by field, in the system’s bare JSON', async () => {
    // The literal codes of the examples are what RFC 6238 gives at that time.
    expect(referenceTotp(SECRET, Date.parse(NOW) / 1000)).toBe('277295');
    for (const example of README_EXAMPLES) {
      const res = await call(example.request.path, asA(), example.request.body);
      const label = `${example.request.path} ${JSON.stringify(example.request.body)}`;
      expect({ status: res.status, body: res.body }, label).toStrictEqual({
        status: example.status,
        body: example.body,
      });
      expect(res.headers['content-type'], label).toMatch(/^application\/json/);
    }
  });

  it('hands out the codes an independent RFC 6238 computation gives, over several steps and parameters', async () => {
    const sha256Secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA';
    const name = uniqueName('eight');
    await createKey(asA(), { name, secret: sha256Secret, max_uses: -1, algorithm: 'sha256', digits: 8, period: 60 });
    for (const at of ['2026-05-01T12:00:29Z', '2026-05-01T12:00:30Z', '2026-05-01T13:17:59Z', '2027-02-03T04:05:06Z']) {
      clock.set(at);
      const seconds = Date.parse(at) / 1000;
      const six = await call('/get-code', asA(), { key: 'shared-unlimited' });
      expect(six.body).toMatchObject({ code: referenceTotp(SECRET, seconds), remaining_time: 30 - (seconds % 30) });
      const eight = await call('/get-code', asA(), { key: name });
      expect(eight.body).toMatchObject({
        code: referenceTotp(sha256Secret, seconds, { digits: 8, algorithm: 'sha256', period: 60 }),
        remaining_time: 60 - (seconds % 60),
        usage_info: { max_uses: -1, remaining_uses: 'unlimited' },
      });
    }
    // The 8-digit sha256 code agrees with oathtool too (`oathtool --totp=sha256 --digits=8 --now …`).
    expect(referenceTotp(sha256Secret, Date.parse(NOW) / 1000, { digits: 8, algorithm: 'sha256', period: 30 })).toBe(
      '13757470',
    );
    clock.set(NOW);
  });

  it('depletes a limited key exactly at its limit, concurrent requests included', async () => {
    const name = uniqueName('limited');
    await createKey(asA(), { name, secret: SECRET, max_uses: 5 });
    const answers = await Promise.all(Array.from({ length: 12 }, () => call('/get-code', asA(), { key: name })));
    const served = answers.filter((res) => res.status === 200);
    expect(served).toHaveLength(5);
    expect(served.map((res) => res.body.usage_info.usage_count).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5]);
    expect(served.map((res) => res.body.usage_info.remaining_uses).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4]);
    for (const res of answers.filter((r) => r.status !== 200)) {
      expect({ status: res.status, body: res.body }).toStrictEqual({
        status: 403,
        body: { error: 'Key has reached its usage limit (5/5 uses)' },
      });
    }
    expect((await call('/key-info', asA(), { key: name })).body).toMatchObject({ usage_count: 5, remaining_uses: 0 });
    expect((await call('/validate-key', asA(), { key: name })).body).toMatchObject({ valid: false });

    // One by one: the last allowed use answers remaining_uses 0, the next one the system's 403.
    const small = uniqueName('small');
    await createKey(asA(), { name: small, secret: SECRET, max_uses: 2 });
    expect((await call('/get-code', asA(), { key: small })).body.usage_info).toEqual({
      max_uses: 2,
      usage_count: 1,
      remaining_uses: 1,
    });
    expect((await call('/get-code', asA(), { key: small })).body.usage_info.remaining_uses).toBe(0);
    const refused = await call('/get-code', asA(), { key: small });
    expect({ status: refused.status, body: refused.body }).toStrictEqual({
      status: 403,
      body: { error: 'Key has reached its usage limit (2/2 uses)' },
    });
  });

  it("answers another client's key exactly like a missing one, on every route, and leaves it untouched", async () => {
    for (const route of ['/get-code', '/validate-key', '/key-info']) {
      const missing = seen(await call(route, asB(), { key: 'no-such-key' }));
      expect(missing.status).toBe(404);
      expect(seen(await call(route, asB(), { key: 'deploy-approval' })), route).toEqual(missing);
    }
    const info = await call('/key-info', asA(), { key: 'deploy-approval' });
    expect(info.body).toMatchObject({ usage_count: 1, remaining_uses: 4 });
  });

  it("takes a person's token for the admin-space keys assigned to them, and nobody else's", async () => {
    const alice = await createUser(t);
    const bob = await createUser(t);
    const name = uniqueName('assigned');
    await createKey(admin.auth, { name, secret: SECRET, max_uses: 3, assigned_user_ids: [alice.id] });
    const byAlice = await call('/get-code', alice.auth, { key: name });
    expect(byAlice.status).toBe(200);
    expect(byAlice.body).toMatchObject({ code: referenceTotp(SECRET, Date.parse(NOW) / 1000) });
    const missing = seen(await call('/get-code', bob.auth, { key: 'no-such-key' }));
    expect(seen(await call('/get-code', bob.auth, { key: name }))).toEqual(missing);
    // A client's API key does not reach the admin space either.
    expect(seen(await call('/get-code', asA(), { key: name }))).toEqual(
      seen(await call('/get-code', asA(), { key: 'no-such-key' })),
    );
    expect((await call('/key-info', alice.auth, { key: name })).body).toMatchObject({ usage_count: 1 });
  });

  it('refuses (and audits) a request without credentials, or with an API key lacking keys:use, in the bare error body', async () => {
    const anonymous = await t.http().post(`${BASE}/get-code`).send({ key: 'deploy-approval' });
    expect(anonymous.status).toBe(401);
    expect(Object.keys(anonymous.body)).toEqual(['error']);
    expect(anonymous.body.error).toEqual(expect.any(String));
    // Audited by the one refusal audit, as on /api/v1, naming the compat route.
    const [refusal] = await t.dataSource.query(
      `SELECT actor_type, action, resource, resource_id, status FROM audit_logs WHERE request_id = $1`,
      [anonymous.headers['x-request-id']],
    );
    expect(refusal).toEqual({
      actor_type: 'anonymous',
      action: 'authn.failed',
      resource: 'route',
      resource_id: 'POST /compat/usage-keys/get-code',
      status: 'failure',
    });
    const devicesOnly = await issueApiKey(t, admin, client.a.id, ['devices:read']);
    const unscoped = await call('/get-code', { 'x-api-key': devicesOnly }, { key: 'deploy-approval' });
    expect(unscoped.status).toBe(403);
    expect(Object.keys(unscoped.body)).toEqual(['error']);
    expect((await call('/key-info', asA(), { key: 'deploy-approval' })).body.usage_count).toBe(1);
  });

  it('audits a refused use exactly as /api/v1/keys/code does', async () => {
    const name = uniqueName('audited');
    await createKey(asA(), { name, secret: SECRET, max_uses: 1 });
    expect((await t.http().post('/api/v1/keys/code').set(asA()).send({ key: name })).status).toBe(200);
    const viaApi = await t.http().post('/api/v1/keys/code').set(asA()).send({ key: name });
    const viaCompat = await call('/get-code', asA(), { key: name });
    expect([viaApi.status, viaCompat.status]).toEqual([409, 403]);
    const rows: Array<Record<string, unknown>> = await t.dataSource.query(
      `SELECT actor_type, actor_id, action, resource, resource_id, status, details, request_id FROM audit_logs
        WHERE action = 'usage_key.use' AND status = 'failure' AND details->>'name' = $1 ORDER BY id`,
      [name],
    );
    expect(rows).toHaveLength(2);
    expect(rows.map((row) => row.request_id)).toEqual([
      viaApi.headers['x-request-id'],
      viaCompat.headers['x-request-id'],
    ]);
    const { request_id: _api, ...api } = rows[0];
    const { request_id: _compat, ...compat } = rows[1];
    expect(compat).toEqual(api);
    expect(compat).toMatchObject({ details: { code: 'KEY_DEPLETED', usage_count: 1, max_uses: 1 } });

    // Another client's attempt is a cross-tenant denial, recorded the same way through either route.
    await t.http().post('/api/v1/keys/code').set(asB()).send({ key: name });
    await call('/get-code', asB(), { key: name });
    const denied: Array<Record<string, unknown>> = await t.dataSource.query(
      `SELECT actor_type, actor_id, action, resource, status, details FROM audit_logs
        WHERE action = 'authz.denied' AND details->>'name' = $1 ORDER BY id`,
      [name],
    );
    expect(denied).toHaveLength(2);
    expect(denied[1]).toEqual(denied[0]);
    expect(denied[0]).toMatchObject({ resource: 'usage_key', details: { code: 'KEY_NOT_FOUND' } });
  });

  it('answers hostile input with a 4xx in the bare error body, never a 5xx', async () => {
    const bodies: Array<[string, string]> = [
      ['malformed JSON', '{"key": '],
      ['a JSON array', '["deploy-approval"]'],
      ['a number key', '{"key": 277295}'],
      ['a NUL byte', '{"key": "deploy\\u0000approval"}'],
      ['a lone surrogate', '{"key": "deploy\\ud800"}'],
      ['a long key', JSON.stringify({ key: 'k'.repeat(10_000) })],
      ['deep nesting', `{"key": ${'['.repeat(40)}${']'.repeat(40)}}`],
      ['null', 'null'],
    ];
    for (const route of ['/get-code', '/validate-key', '/key-info']) {
      for (const [what, body] of bodies) {
        const res = await t
          .http()
          .post(`${BASE}${route}`)
          .set(asA())
          .set('content-type', 'application/json')
          .send(body);
        const label = `${route} ${what}`;
        expect(res.status, label).toBeGreaterThanOrEqual(400);
        expect(res.status, label).toBeLessThan(500);
        expect(res.headers['content-type'], label).toMatch(/^application\/json/);
        expect(Object.keys(res.body), label).toEqual(['error']);
        expect(res.body.error, label).toEqual(expect.any(String));
      }
    }
    // The router's own refusal (a path not validly percent-encoded) is in the same body.
    const undecodable = await t.http().post(`${BASE}/get-code%ZZ`).set(asA()).send({ key: 'deploy-approval' });
    expect({ status: undecodable.status, body: undecodable.body }).toStrictEqual({
      status: 400,
      body: { error: 'The path is not validly percent-encoded.' },
    });
    expect((await call('/key-info', asA(), { key: 'deploy-approval' })).body.usage_count).toBe(1);
  });

  it('documents its routes under its own OpenAPI tag, errors in its bare body', async () => {
    const document = (await t.http().get('/docs/openapi.json').expect(200)).body;
    const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
    for (const [route, answer] of [
      ['get-code', 'UsageKeysCompatCodeDto'],
      ['validate-key', 'UsageKeysCompatValidityDto'],
      ['key-info', 'UsageKeysCompatInfoDto'],
    ]) {
      const operation = document.paths[`${BASE}/${route}`].post;
      expect(operation.tags).toEqual(['compat 000: usage-count keys']);
      expect(operation.summary).toEqual(expect.any(String));
      expect(operation.security).toEqual(expect.arrayContaining([{ jwt: [] }, { 'api-key': [] }]));
      expect(operation.responses['200'].content).toEqual({ 'application/json': { schema: ref(answer) } });
      for (const status of ['400', '401', '403', '404', '503', '4XX', '5XX']) {
        expect(operation.responses[status]?.content, `${route} ${status}`).toEqual({
          'application/json': { schema: ref('UsageKeysCompatErrorDto') },
        });
      }
    }
    // The service's own routes still document problem details.
    expect(Object.keys(document.paths['/api/v1/keys/code'].post.responses['404'].content)).toEqual([
      'application/problem+json',
    ]);
  });

  it('serves none of its routes while COMPAT_USAGE_KEYS is off, the default', async () => {
    const off = await bootApp({}, { clock });
    try {
      for (const route of ['/get-code', '/validate-key', '/key-info']) {
        const res = await off.http().post(`${BASE}${route}`).set(asA()).send({ key: 'deploy-approval' });
        expect(res.status, route).toBe(404);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body).toMatchObject({ code: 'NOT_FOUND' });
      }
      const document = (await off.http().get('/docs/openapi.json').expect(200)).body;
      expect(Object.keys(document.paths).filter((path) => path.startsWith('/compat/'))).toEqual([]);
      // The key was not used by those requests.
      expect((await call('/key-info', asA(), { key: 'deploy-approval' })).body.usage_count).toBe(1);
    } finally {
      await off.close();
    }
  });
});
