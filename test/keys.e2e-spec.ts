import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBase32 } from '../src/otp/base32.js';
import { generateTotp } from '../src/otp/otp-engine.js';
import { FakeClock } from './support/fake-clock.js';
import { createUser, TestUser, uniqueName } from './support/identity.js';
import { bootApp, TestApp } from './support/test-app.js';

const SAMPLE = JSON.parse(readFileSync(new URL('./fixtures/keys.sample.json', import.meta.url), 'utf8')) as Record<
  string,
  { secret: string; max_uses: number; usage_count: number; created_at: string; last_used: string | null }
>;

function oathtoolTotp(secret: string, at: Date, algorithm = 'sha1', digits = 6, period = 30): string {
  const args = [`--totp=${algorithm}`, '--base32', `--digits=${digits}`, `--time-step-size=${period}s`];
  const result = spawnSync('/usr/bin/oathtool', [...args, `--now=${at.toISOString()}`, secret], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`oathtool failed: ${result.stderr}`);
  return result.stdout.trim();
}

describe('usage-limited keys', () => {
  const clock = new FakeClock(new Date('2026-05-01T12:00:07Z'));
  let t: TestApp;
  let admin: TestUser;
  let user: TestUser;
  let useKey: string;
  let adminKey: string;

  beforeAll(async () => {
    t = await bootApp({}, { clock });
    admin = await createUser(t, { role: 'admin' });
    user = await createUser(t);
    const issue = async (scopes: string[]): Promise<string> => {
      const res = await t
        .http()
        .post('/api/v1/api-keys')
        .set(admin.auth)
        .send({ name: 'keys', client_id: 'acme', scopes });
      expect(res.status).toBe(201);
      return res.body.key as string;
    };
    useKey = await issue(['keys:use']);
    adminKey = await issue(['keys:admin']);
  });
  afterAll(() => t.close());

  // Keys are the acme client's (made with its keys:admin API key), so its keys:use API key reaches them.
  const create = (body: object, auth: Record<string, string> = { 'x-api-key': adminKey }) =>
    t.http().post('/api/v1/keys').set(auth).send(body);
  const code = (key: string) => t.http().post('/api/v1/keys/code').set('x-api-key', useKey).send({ key });

  it('creates a key with a generated secret shown once, and yields the code oathtool computes', async () => {
    const name = uniqueName('key');
    const res = await create({ name, max_uses: 3 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name,
      max_uses: 3,
      usage_count: 0,
      remaining_uses: 3,
      status: 'active',
      algorithm: 'sha1',
      digits: 6,
      period: 30,
      last_used: null,
    });
    expect(decodeBase32(res.body.secret)).toHaveLength(20);
    const [row] = await t.dataSource.query('SELECT secret FROM usage_keys WHERE name = $1', [name]);
    expect(row.secret).not.toContain(res.body.secret);
    expect((await t.http().get(`/api/v1/keys/${name}?client_id=acme`).set(admin.auth)).body).not.toHaveProperty(
      'secret',
    );

    const used = await code(name);
    expect(used.status).toBe(200);
    expect(used.body).toEqual({
      success: true,
      key: name,
      code: oathtoolTotp(res.body.secret, clock.now()),
      remaining_seconds: 23,
      usage_info: { max_uses: 3, usage_count: 1, remaining_uses: 2 },
    });
  });

  it('imports a secret with its own algorithm, digits and period, matching the OTP engine', async () => {
    const name = uniqueName('key');
    const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA';
    const res = await create({ name, secret, algorithm: 'sha256', digits: 8, period: 60, max_uses: -1 });
    expect(res.status).toBe(201);
    expect(res.body.remaining_uses).toBe('unlimited');
    const used = await code(name);
    const expected = generateTotp({
      secret: decodeBase32(secret),
      algorithm: 'sha256',
      digits: 8,
      period: 60,
      now: clock.now().getTime(),
    });
    expect(used.body.code).toBe(expected.code);
    expect(used.body.code).toBe(oathtoolTotp(secret, clock.now(), 'sha256', 8, 60));
    expect(used.body.usage_info).toEqual({ max_uses: -1, usage_count: 1, remaining_uses: 'unlimited' });
  });

  it('gives exactly 5 codes to 200 concurrent callers of a 5-use key', { timeout: 120_000 }, async () => {
    const name = uniqueName('five');
    expect((await create({ name, max_uses: 5 })).status).toBe(201);
    const answers = await Promise.all(Array.from({ length: 200 }, () => code(name)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 409)).toHaveLength(195);
    expect(new Set(answers.filter((a) => a.status === 200).map((a) => a.body.usage_info.usage_count))).toEqual(
      new Set([1, 2, 3, 4, 5]),
    );
    const info = await t.http().post('/api/v1/keys/info').set('x-api-key', useKey).send({ key: name });
    expect(info.body).toMatchObject({ exists: true, max_uses: 5, usage_count: 5, remaining_uses: 0, is_valid: false });
    const [{ used, refused }] = await t.dataSource.query(
      `SELECT count(*) FILTER (WHERE e.outcome = 'used')::int AS used,
              count(*) FILTER (WHERE e.outcome = 'depleted')::int AS refused
         FROM usage_key_events e JOIN usage_keys k ON k.id = e.key_id WHERE k.name = $1`,
      [name],
    );
    expect({ used, refused }).toEqual({ used: 5, refused: 195 });
  });

  it('counts every use of an unlimited key, also concurrently', { timeout: 120_000 }, async () => {
    const name = uniqueName('unlimited');
    expect((await create({ name, max_uses: -1 })).status).toBe(201);
    const answers = await Promise.all(Array.from({ length: 50 }, () => code(name)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const info = await t.http().post('/api/v1/keys/info').set('x-api-key', useKey).send({ key: name });
    expect(info.body).toMatchObject({ usage_count: 50, remaining_uses: 'unlimited', is_valid: true });
  });

  it('refuses a depleted key with KEY_DEPLETED and its usage_info, and records the refusal', async () => {
    const name = uniqueName('once');
    await create({ name });
    expect((await code(name)).status).toBe(200);
    const refused = await code(name);
    expect(refused.status).toBe(409);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.body).toMatchObject({
      code: 'KEY_DEPLETED',
      usage_info: { max_uses: 1, usage_count: 1, remaining_uses: 0 },
    });
    const history = await t.http().get(`/api/v1/keys/${name}/usage?client_id=acme`).set(admin.auth);
    expect(history.body.total).toBe(2);
    expect(history.body.items.map((e: { outcome: string }) => e.outcome)).toEqual(['depleted', 'used']);
    expect(history.body.items[0]).toMatchObject({ actor_type: 'api_key', usage_count: 1 });
    const audit = await t.dataSource.query(
      `SELECT status, details FROM audit_logs WHERE action = 'usage_key.use' AND details->>'name' = $1 ORDER BY id`,
      [name],
    );
    expect(audit.map((a: { status: string }) => a.status)).toEqual(['success', 'failure']);
    expect(audit[1].details.code).toBe('KEY_DEPLETED');
    expect(JSON.stringify(audit)).not.toMatch(/"code":"\d{6}"/);
  });

  it('refuses an expired key with KEY_EXPIRED and an unknown key with 404 KEY_NOT_FOUND', async () => {
    const name = uniqueName('temp');
    await create({ name, max_uses: -1, expires_at: new Date(clock.now().getTime() + 60_000).toISOString() });
    expect((await code(name)).status).toBe(200);
    clock.advance(61_000);
    const expired = await code(name);
    expect(expired.status).toBe(409);
    expect(expired.body).toMatchObject({ code: 'KEY_EXPIRED', usage_info: { usage_count: 1 } });
    const validate = await t.http().post('/api/v1/keys/validate').set('x-api-key', useKey).send({ key: name });
    expect(validate.body).toMatchObject({ valid: false, status: 'expired' });

    const unknown = await code('no-such-key');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('KEY_NOT_FOUND');
    expect(
      (await t.http().post('/api/v1/keys/validate').set('x-api-key', useKey).send({ key: 'no-such-key' })).status,
    ).toBe(404);
    const info = await t.http().post('/api/v1/keys/info').set('x-api-key', useKey).send({ key: 'no-such-key' });
    expect(info.status).toBe(200);
    expect(info.body).toEqual({ key: 'no-such-key', exists: false });
  });

  it('validates and informs without consuming a use', async () => {
    const name = uniqueName('peek');
    await create({ name, max_uses: 2 });
    for (let i = 0; i < 3; i++) {
      const v = await t.http().post('/api/v1/keys/validate').set('x-api-key', useKey).send({ key: name });
      expect(v.body).toEqual({
        key: name,
        valid: true,
        status: 'active',
        usage_info: { max_uses: 2, usage_count: 0, remaining_uses: 2 },
      });
    }
    expect((await t.http().get(`/api/v1/keys/${name}?client_id=acme`).set(admin.auth)).body.usage_count).toBe(0);
  });

  it('sets the limit and expiry, resets the count, lists by status, and deletes', async () => {
    const name = uniqueName('admin');
    await create({ name, max_uses: 1 });
    await code(name);
    expect((await t.http().get('/api/v1/keys?status=depleted&limit=100').set(admin.auth)).body.items).toContainEqual(
      expect.objectContaining({ name, status: 'depleted', remaining_uses: 0 }),
    );
    const patched = await t.http().patch(`/api/v1/keys/${name}?client_id=acme`).set(admin.auth).send({ max_uses: 3 });
    expect(patched.body).toMatchObject({ max_uses: 3, usage_count: 1, remaining_uses: 2, status: 'active' });
    const expiring = await t
      .http()
      .patch(`/api/v1/keys/${name}`)
      .set('x-api-key', adminKey)
      .send({ expires_at: new Date(clock.now().getTime() - 1000).toISOString() });
    expect(expiring.body.status).toBe('expired');
    expect(
      (await t.http().patch(`/api/v1/keys/${name}?client_id=acme`).set(admin.auth).send({ expires_at: null })).body
        .status,
    ).toBe('active');
    const reset = await t.http().post(`/api/v1/keys/${name}/reset?client_id=acme`).set(admin.auth);
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ usage_count: 0, remaining_uses: 3 });
    const actions = await t.dataSource.query(
      `SELECT action, actor_type FROM audit_logs WHERE resource = 'usage_key' AND details->>'name' = $1 ORDER BY id`,
      [name],
    );
    expect(actions.map((a: { action: string }) => a.action)).toEqual([
      'usage_key.create',
      'usage_key.use',
      'usage_key.update',
      'usage_key.update',
      'usage_key.update',
      'usage_key.reset',
    ]);
    expect(actions[3].actor_type).toBe('api_key');

    expect((await t.http().delete(`/api/v1/keys/${name}?client_id=acme`).set(admin.auth)).status).toBe(204);
    expect((await t.http().get(`/api/v1/keys/${name}?client_id=acme`).set(admin.auth)).status).toBe(404);
    expect((await code(name)).body.code).toBe('KEY_NOT_FOUND');
    expect((await create({ name: 'x', max_uses: 1 }, { 'x-api-key': adminKey })).status).toBe(201);
    expect((await create({ name: 'x' })).body.code).toBe('KEY_EXISTS');
  });

  it('imports the reference format, keeping counts and timestamps', async () => {
    const res = await t.http().post('/api/v1/keys/import').set('x-api-key', adminKey).send({ keys: SAMPLE });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dry_run: false, created: 4, skipped: 0, invalid: 0 });
    const info = await t.http().post('/api/v1/keys/info').set('x-api-key', useKey).send({ key: 'deploy-approval' });
    expect(info.body).toEqual({
      key: 'deploy-approval',
      exists: true,
      max_uses: 5,
      usage_count: 2,
      remaining_uses: 3,
      is_valid: true,
      last_used: '2025-01-16T08:05:09.654Z',
      created_at: '2025-01-15T10:30:00.123Z',
      expires_at: null,
    });
    const unlimited = await t
      .http()
      .post('/api/v1/keys/info')
      .set('x-api-key', useKey)
      .send({ key: 'shared-unlimited' });
    expect(unlimited.body).toMatchObject({
      usage_count: 1234,
      remaining_uses: 'unlimited',
      last_used: '2025-02-01T23:59:59.000Z',
    });
    expect((await code('spent')).body.code).toBe('KEY_DEPLETED');
    const used = await code('deploy-approval');
    expect(used.body.code).toBe(oathtoolTotp(SAMPLE['deploy-approval'].secret, clock.now()));
    expect(used.body.usage_info).toEqual({ max_uses: 5, usage_count: 3, remaining_uses: 2 });

    const again = await t.http().post('/api/v1/keys/import').set('x-api-key', adminKey).send({ keys: SAMPLE });
    expect(again.body).toMatchObject({ created: 0, skipped: 4 });
    const replaced = await t
      .http()
      .post('/api/v1/keys/import')
      .set('x-api-key', adminKey)
      .send({ keys: { 'deploy-approval': SAMPLE['deploy-approval'] }, replace: true });
    expect(replaced.body.results).toEqual([{ name: 'deploy-approval', status: 'replaced' }]);
    expect((await t.http().get('/api/v1/keys/deploy-approval?client_id=acme').set(admin.auth)).body.usage_count).toBe(
      2,
    );
  });

  it('writes nothing in a dry run, and reports invalid entries while importing the rest', async () => {
    const ok = uniqueName('imp');
    const keys = {
      [ok]: {
        secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
        max_uses: 2,
        usage_count: 0,
        created_at: '2025-01-01T00:00:00',
      },
      [uniqueName('bad')]: { secret: 'JBSWY3DP', max_uses: 0, usage_count: -1, created_at: 'yesterday' },
      'bad name!': { secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', max_uses: 1 },
    };
    const before = await t.dataSource.query('SELECT count(*)::int AS n FROM usage_keys');
    const dry = await t.http().post('/api/v1/keys/import').set(admin.auth).send({ keys, dry_run: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dry_run: true, created: 1, invalid: 2 });
    expect(dry.body.results[1].errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining('secret must carry at least 80 bits'),
        expect.stringContaining('max_uses'),
        expect.stringContaining('usage_count'),
        expect.stringContaining('created_at'),
      ]),
    );
    expect(await t.dataSource.query('SELECT count(*)::int AS n FROM usage_keys')).toEqual(before);

    const real = await t.http().post('/api/v1/keys/import').set(admin.auth).send({ keys });
    expect(real.body).toMatchObject({ dry_run: false, created: 1, invalid: 2 });
    expect((await t.http().get(`/api/v1/keys/${ok}`).set(admin.auth)).body).toMatchObject({
      max_uses: 2,
      created_at: '2025-01-01T00:00:00.000Z',
    });
  });

  it('answers 400 with field errors for wrong types, missing fields, an empty name and bad limits', async () => {
    const fieldsOf = (body: { errors?: Array<{ field: string }> }) => body.errors?.map((e) => e.field);
    for (const [body, fields] of [
      [{ name: '', max_uses: 1 }, ['name']],
      [{ max_uses: 1 }, ['name']],
      [{ name: 'k', max_uses: 0 }, ['max_uses']],
      [{ name: 'k', max_uses: -2 }, ['max_uses']],
      [{ name: 'k', max_uses: '5' }, ['max_uses']],
      [
        { name: 42, max_uses: 1.5, digits: 9, algorithm: 'md5', secret: 'ABC' },
        ['name', 'secret', 'max_uses', 'algorithm', 'digits'],
      ],
      [{ name: 'k', owner: 'me' }, ['owner']],
    ] as const) {
      const res = await create(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(fieldsOf(res.body)).toEqual(expect.arrayContaining([...fields]));
    }
    for (const body of [{}, { key: '' }, { key: 5 }, { key: 'k', extra: 1 }]) {
      const res = await t.http().post('/api/v1/keys/code').set('x-api-key', useKey).send(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errors.length).toBeGreaterThan(0);
    }
    const patch = await t.http().patch('/api/v1/keys/whatever').set(admin.auth).send({ max_uses: 0 });
    expect(patch.status).toBe(400);
    expect(fieldsOf(patch.body)).toEqual(['max_uses']);
    const importBad = await t.http().post('/api/v1/keys/import').set(admin.auth).send({ keys: 'nope' });
    expect(importBad.status).toBe(400);
    expect(fieldsOf(importBad.body)).toEqual(['keys']);
  });

  it('keeps management for administrators and keys:admin, use for keys:use and the people a key is assigned to', async () => {
    const name = uniqueName('guard');
    await create({ name, max_uses: -1, assigned_user_ids: [user.id] }, admin.auth);
    for (const [method, path] of [
      ['post', '/api/v1/keys'],
      ['get', '/api/v1/keys'],
      ['get', `/api/v1/keys/${name}`],
      ['patch', `/api/v1/keys/${name}`],
      ['post', `/api/v1/keys/${name}/reset`],
      ['delete', `/api/v1/keys/${name}`],
      ['get', `/api/v1/keys/${name}/usage`],
      ['post', '/api/v1/keys/import'],
    ] as const) {
      const asUser = await t.http()[method](path).set(user.auth).send({});
      expect(asUser.status, `${method} ${path}`).toBe(403);
      const asUseKey = await t.http()[method](path).set('x-api-key', useKey).send({});
      expect(asUseKey.status, `${method} ${path}`).toBe(403);
      expect(asUseKey.body.code).toBe('INSUFFICIENT_SCOPE');
    }
    expect((await t.http().post('/api/v1/keys/code').set(user.auth).send({ key: name })).status).toBe(200);
    expect((await t.http().post('/api/v1/keys/code').set('x-api-key', adminKey).send({ key: name })).status).toBe(403);
    expect((await t.http().post('/api/v1/keys/code').send({ key: name })).status).toBe(401);
    const history = await t.http().get(`/api/v1/keys/${name}/usage`).set(admin.auth);
    expect(history.body.items[0]).toMatchObject({ actor_type: 'user', actor_id: user.id, outcome: 'used' });
  });
});
