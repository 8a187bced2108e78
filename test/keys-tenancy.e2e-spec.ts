import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { runMigrations } from '../src/database/migration-runner.js';
import { decodeBase32 } from '../src/otp/base32.js';
import { generateTotp } from '../src/otp/otp-engine.js';
import { FakeClock } from './support/fake-clock.js';
import { createUser, TestUser, uniqueName } from './support/identity.js';
import { scratchDatabase } from './support/scratch-database.js';
import { bootApp, TestApp } from './support/test-app.js';

type Auth = Record<string, string>;

const SECRET_A = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const SECRET_B = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const SECRET_ADMIN = 'MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U';

/** An answer as the caller sees it, with only the request id (unique per request) masked. */
const seen = (res: Response) => {
  const requestId: unknown = res.body?.requestId;
  return {
    status: res.status,
    type: res.headers['content-type'],
    text: typeof requestId === 'string' ? res.text.replaceAll(requestId, '<request-id>') : res.text,
  };
};

describe('usage-limited key tenancy', () => {
  const clock = new FakeClock(new Date('2026-05-01T12:00:07Z'));
  let t: TestApp;
  let admin: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  /** Two API clients, each with one API key holding keys:use and keys:admin. */
  const client = { a: { id: uniqueName('ca'), key: '', keyId: '' }, b: { id: uniqueName('cb'), key: '', keyId: '' } };
  let asA: Auth;
  let asB: Auth;

  beforeAll(async () => {
    t = await bootApp({}, { clock });
    admin = await createUser(t, { role: 'admin' });
    alice = await createUser(t);
    bob = await createUser(t);
    for (const c of [client.a, client.b]) {
      const res = await t
        .http()
        .post('/api/v1/api-keys')
        .set(admin.auth)
        .send({ name: 'tenancy', client_id: c.id, scopes: ['keys:use', 'keys:admin'] });
      expect(res.status).toBe(201);
      c.key = res.body.key;
      c.keyId = res.body.id;
    }
    asA = { 'x-api-key': client.a.key };
    asB = { 'x-api-key': client.b.key };
  });
  afterAll(() => t.close());

  const create = (auth: Auth, body: object) => t.http().post('/api/v1/keys').set(auth).send(body);
  const use = (auth: Auth, route: 'code' | 'validate' | 'info', key: string) =>
    t.http().post(`/api/v1/keys/${route}`).set(auth).send({ key });
  const totp = (secret: string) =>
    generateTotp({ secret: decodeBase32(secret), algorithm: 'sha1', digits: 6, period: 30, now: clock.now().getTime() })
      .code;

  /** Every keys route that names one key, as `caller` would call it (with `?client_id=` when given). */
  const everyRoute = (caller: Auth, name: string, clientId?: string) => {
    const q = clientId === undefined ? '' : `?client_id=${clientId}`;
    return {
      code: () => use(caller, 'code', name),
      validate: () => use(caller, 'validate', name),
      info: () => use(caller, 'info', name),
      get: () => t.http().get(`/api/v1/keys/${name}${q}`).set(caller),
      patch: () => t.http().patch(`/api/v1/keys/${name}${q}`).set(caller).send({ max_uses: 99 }),
      reset: () => t.http().post(`/api/v1/keys/${name}/reset${q}`).set(caller),
      usage: () => t.http().get(`/api/v1/keys/${name}/usage${q}`).set(caller),
      delete: () => t.http().delete(`/api/v1/keys/${name}${q}`).set(caller),
    };
  };
  const callAll = async (routes: ReturnType<typeof everyRoute>) => {
    const answers: Record<string, ReturnType<typeof seen>> = {};
    for (const [route, call] of Object.entries(routes)) answers[route] = seen(await call());
    return answers;
  };
  const auditOf = (actorId: string, name: string) =>
    t.dataSource.query(
      `SELECT action, status, resource, details FROM audit_logs
        WHERE actor_id = $1 AND details->>'name' = $2 ORDER BY id`,
      [actorId, name],
    ) as Promise<Array<{ action: string; status: string; resource: string; details: Record<string, unknown> }>>;

  it('keeps the same name under two clients and the admin space as three independent keys', async () => {
    const name = uniqueName('shared');
    expect((await create(asA, { name, secret: SECRET_A, max_uses: 2 })).body).toMatchObject({
      client_id: client.a.id,
      assigned_user_ids: [],
    });
    expect((await create(asB, { name, secret: SECRET_B, max_uses: 5 })).status).toBe(201);
    const adminKey = await create(admin.auth, { name, secret: SECRET_ADMIN, max_uses: 1 });
    expect(adminKey.status).toBe(201);
    expect(adminKey.body).toMatchObject({ client_id: null, assigned_user_ids: [] });
    expect((await create(asA, { name })).body.code).toBe('KEY_EXISTS');

    // Each caller's code comes from its own key's secret, and counts on that key only.
    const byA = await use(asA, 'code', name);
    expect(byA.body).toMatchObject({ code: totp(SECRET_A), usage_info: { max_uses: 2, usage_count: 1 } });
    const byB = await use(asB, 'code', name);
    expect(byB.body).toMatchObject({ code: totp(SECRET_B), usage_info: { max_uses: 5, usage_count: 1 } });
    const byAdmin = await use(admin.auth, 'code', name);
    expect(byAdmin.body).toMatchObject({ code: totp(SECRET_ADMIN), usage_info: { max_uses: 1, usage_count: 1 } });

    expect((await t.http().get(`/api/v1/keys/${name}`).set(asA)).body).toMatchObject({ max_uses: 2, usage_count: 1 });
    expect((await t.http().get(`/api/v1/keys/${name}`).set(admin.auth)).body).toMatchObject({
      client_id: null,
      max_uses: 1,
    });
    expect((await t.http().get(`/api/v1/keys/${name}?client_id=${client.b.id}`).set(admin.auth)).body).toMatchObject({
      client_id: client.b.id,
      max_uses: 5,
    });
    // Deleting one leaves the others.
    expect((await t.http().delete(`/api/v1/keys/${name}`).set(asB)).status).toBe(204);
    expect((await use(asA, 'info', name)).body).toMatchObject({ exists: true, usage_count: 1 });
    expect((await t.http().get(`/api/v1/keys/${name}`).set(admin.auth)).status).toBe(200);
    expect((await use(asB, 'info', name)).body).toEqual({ key: name, exists: false });
  });

  it("answers another client's key on every route exactly as an unknown name, audited as authz.denied", async () => {
    const name = uniqueName('mine');
    // What client B gets for the name while nobody has it, directly and naming client A.
    const unknown = await callAll(everyRoute(asB, name));
    const unknownNamingA = await callAll(everyRoute(asB, name, client.a.id));
    expect(unknown.code.status).toBe(404);
    expect(JSON.parse(unknown.code.text)).toMatchObject({ code: 'KEY_NOT_FOUND' });
    expect(JSON.parse(unknown.info.text)).toEqual({ key: name, exists: false });

    expect((await create(asA, { name, max_uses: 3 })).status).toBe(201);
    expect(await callAll(everyRoute(asB, name))).toEqual(unknown);
    expect(await callAll(everyRoute(asB, name, client.a.id))).toEqual(unknownNamingA);
    for (const answer of Object.values(unknownNamingA).filter((a) => a.status !== 200)) {
      expect(JSON.parse(answer.text).code).toBe('KEY_NOT_FOUND');
    }
    const listed = await t.http().get('/api/v1/keys?limit=100').set(asB);
    expect(listed.body.items.map((k: { name: string }) => k.name)).not.toContain(name);
    expect(listed.body.items.every((k: { client_id: string }) => k.client_id === client.b.id)).toBe(true);
    expect((await t.http().get(`/api/v1/keys?client_id=${client.a.id}`).set(asB)).body).toMatchObject({
      items: [],
      total: 0,
    });

    // A's key is untouched: no use, no new limit, not reset, not deleted, no history of B's attempts.
    expect((await t.http().get(`/api/v1/keys/${name}`).set(asA)).body).toMatchObject({ max_uses: 3, usage_count: 0 });
    expect((await t.http().get(`/api/v1/keys/${name}/usage`).set(asA)).body.total).toBe(0);

    const audit = await auditOf(client.b.keyId, name);
    const row = (a: (typeof audit)[number]) =>
      a.action === 'authz.denied'
        ? `denied ${a.details.attempted}${a.details.client_id === client.a.id ? ' naming A' : ''}`
        : `${a.action} ${a.status}`;
    const routes = ['use', 'validate', 'info', 'get', 'update', 'reset', 'history', 'delete'];
    expect(audit.map(row)).toEqual([
      // Before A made it: the normal not-found failures (validate and info of an unknown name record nothing)…
      ...['use', 'get', 'update', 'reset', 'history', 'delete'].map((r) => `usage_key.${r} failure`),
      // …except that naming another client is a cross-tenant attempt whether or not the name exists.
      'usage_key.use failure',
      ...routes.slice(3).map((r) => `denied usage_key.${r} naming A`),
      // After: every attempt is denied.
      ...routes.map((r) => `denied usage_key.${r}`),
      ...routes.map((r, i) => `denied usage_key.${r}${i >= 3 ? ' naming A' : ''}`),
    ]);
    for (const a of audit) {
      expect(a).toMatchObject({ resource: 'usage_key', status: 'failure', details: { code: 'KEY_NOT_FOUND' } });
    }
  });

  it("imports into the caller's own space only; replace and dry_run never touch another owner's key", async () => {
    const name = uniqueName('imp');
    await create(asA, { name, secret: SECRET_A, max_uses: 3 });
    await use(asA, 'code', name);
    const entry = { secret: SECRET_B, max_uses: 7, usage_count: 4, created_at: '2025-01-01T00:00:00' };
    const importAs = (auth: Auth, body: object) => t.http().post('/api/v1/keys/import').set(auth).send(body);

    const dry = await importAs(asB, { keys: { [name]: entry }, replace: true, dry_run: true });
    expect(dry.body).toMatchObject({ dry_run: true, created: 1, replaced: 0 });
    expect((await use(asB, 'info', name)).body).toEqual({ key: name, exists: false });

    const first = await importAs(asB, { keys: { [name]: entry }, replace: true });
    expect(first.body.results).toEqual([{ name, status: 'created' }]);
    const again = await importAs(asB, { keys: { [name]: { ...entry, max_uses: 8 } }, replace: true });
    expect(again.body.results).toEqual([{ name, status: 'replaced' }]);
    const byAdmin = await importAs(admin.auth, { keys: { [name]: entry } });
    expect(byAdmin.body.results).toEqual([{ name, status: 'created' }]);

    expect((await t.http().get(`/api/v1/keys/${name}`).set(asB)).body).toMatchObject({
      client_id: client.b.id,
      max_uses: 8,
      usage_count: 4,
    });
    expect((await t.http().get(`/api/v1/keys/${name}`).set(admin.auth)).body).toMatchObject({
      client_id: null,
      max_uses: 7,
    });
    // A's key keeps its secret, limit and count.
    expect((await t.http().get(`/api/v1/keys/${name}`).set(asA)).body).toMatchObject({ max_uses: 3, usage_count: 1 });
    expect((await use(asA, 'code', name)).body).toMatchObject({ code: totp(SECRET_A), usage_info: { usage_count: 2 } });
    const [record] = await t.dataSource.query(
      `SELECT details FROM audit_logs WHERE action = 'usage_key.import' AND actor_id = $1 ORDER BY id DESC LIMIT 1`,
      [client.b.keyId],
    );
    expect(record.details).toMatchObject({ client_id: client.b.id, replaced: 1, names: [name] });
  });

  it('lets a person use only the admin-space keys assigned to them', async () => {
    const name = uniqueName('handed');
    const bobUnknown = await callAll(everyRoute(bob.auth, name));
    const made = await create(admin.auth, { name, secret: SECRET_ADMIN, max_uses: -1, assigned_user_ids: [alice.id] });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ client_id: null, assigned_user_ids: [alice.id] });

    expect((await use(alice.auth, 'code', name)).body).toMatchObject({ code: totp(SECRET_ADMIN) });
    expect((await use(alice.auth, 'validate', name)).body).toMatchObject({ valid: true });
    expect((await use(alice.auth, 'info', name)).body).toMatchObject({ exists: true, usage_count: 1 });
    const bobAfter = await callAll(everyRoute(bob.auth, name));
    for (const route of ['code', 'validate', 'info'] as const) expect(bobAfter[route]).toEqual(bobUnknown[route]);
    // The management routes stay closed to people whatever the key.
    expect(bobAfter.get.status).toBe(403);
    expect(
      (await auditOf(bob.id, name)).filter((a) => a.action === 'authz.denied').map((a) => a.details.attempted),
    ).toEqual(['usage_key.use', 'usage_key.validate', 'usage_key.info']);

    // Re-assigned to bob: now bob uses it and alice does not.
    const patched = await t
      .http()
      .patch(`/api/v1/keys/${name}`)
      .set(admin.auth)
      .send({ assigned_user_ids: [bob.id] });
    expect(patched.body).toMatchObject({ assigned_user_ids: [bob.id], usage_count: 1 });
    expect((await use(bob.auth, 'code', name)).status).toBe(200);
    expect((await use(alice.auth, 'code', name)).body.code).toBe('KEY_NOT_FOUND');
    expect((await use(alice.auth, 'info', name)).body).toEqual({ key: name, exists: false });

    // A person never reaches a client's key, even one of the same name.
    await create(asA, { name, max_uses: -1 });
    expect((await use(alice.auth, 'code', name)).body.code).toBe('KEY_NOT_FOUND');
  });

  it('checks assignments: admin-space keys only, existing people only, gone with the person', async () => {
    const name = uniqueName('assign');
    const byClient = await create(asA, { name, assigned_user_ids: [alice.id] });
    expect(byClient.status).toBe(400);
    expect(byClient.body.errors).toEqual([
      { field: 'assigned_user_ids', messages: [expect.stringContaining('admin-space')] },
    ]);
    await create(asA, { name });
    const onClientKey = await t
      .http()
      .patch(`/api/v1/keys/${name}?client_id=${client.a.id}`)
      .set(admin.auth)
      .send({ assigned_user_ids: [alice.id] });
    expect(onClientKey.status).toBe(400);

    const nobody = await create(admin.auth, { name, assigned_user_ids: ['00000000-0000-4000-8000-000000000000'] });
    expect(nobody.status).toBe(400);
    expect(nobody.body.errors[0]).toMatchObject({ field: 'assigned_user_ids' });
    expect((await t.http().get(`/api/v1/keys/${name}`).set(admin.auth)).status).toBe(404);
    expect((await create(admin.auth, { name, assigned_user_ids: ['not-a-uuid'] })).body.code).toBe('VALIDATION_FAILED');

    const carol = await createUser(t);
    const made = await create(admin.auth, { name, assigned_user_ids: [carol.id, alice.id] });
    expect(made.body.assigned_user_ids).toEqual([carol.id, alice.id].sort());
    expect((await t.http().delete(`/api/v1/users/${carol.id}`).set(admin.auth)).status).toBe(204);
    expect((await t.http().get(`/api/v1/keys/${name}`).set(admin.auth)).body.assigned_user_ids).toEqual([alice.id]);
  });

  it("lets administrators reach every key: the admin space by default, a client's with client_id", async () => {
    const name = uniqueName('reach');
    await create(asA, { name, max_uses: 2 });
    await use(asA, 'code', name);
    const q = `?client_id=${client.a.id}`;

    const missing = await t.http().get(`/api/v1/keys/${name}`).set(admin.auth);
    expect(missing.status).toBe(404);
    expect((await use(admin.auth, 'code', name)).status).toBe(404);
    expect((await t.http().patch(`/api/v1/keys/${name}${q}`).set(admin.auth).send({ max_uses: 4 })).body).toMatchObject(
      {
        client_id: client.a.id,
        max_uses: 4,
        usage_count: 1,
      },
    );
    expect((await t.http().get(`/api/v1/keys/${name}/usage${q}`).set(admin.auth)).body.total).toBe(1);
    expect((await t.http().post(`/api/v1/keys/${name}/reset${q}`).set(admin.auth)).body.usage_count).toBe(0);
    expect((await t.http().get(`/api/v1/keys/${name}`).set(asA)).body).toMatchObject({ max_uses: 4, usage_count: 0 });
    // An administrator's miss is a plain not-found failure: nothing is denied to them.
    expect((await auditOf(admin.id, name)).map((a) => `${a.action}:${a.status}:${a.details.code}`)).toEqual([
      'usage_key.get:failure:KEY_NOT_FOUND',
      'usage_key.use:failure:KEY_NOT_FOUND',
      'usage_key.update:success:undefined',
      'usage_key.reset:success:undefined',
    ]);
    expect((await t.http().delete(`/api/v1/keys/${name}${q}`).set(admin.auth)).status).toBe(204);
    expect((await use(asA, 'info', name)).body).toEqual({ key: name, exists: false });
  });

  it('lists every key with its owner for administrators, filtered by client_id or space; a client its own', async () => {
    const name = uniqueName('listed');
    await create(asA, { name });
    await create(asB, { name });
    await create(admin.auth, { name, assigned_user_ids: [alice.id] });
    /** Every page of the list, reduced to this test's keys as [owner, assigned people]. */
    const list = async (auth: Auth, query = '') => {
      const items: Array<Record<string, unknown>> = [];
      for (let offset = 0, total = 1; offset < total; offset += 100) {
        const page = await t.http().get(`/api/v1/keys?limit=100&offset=${offset}${query}`).set(auth);
        expect(page.status).toBe(200);
        items.push(...page.body.items);
        total = page.body.total;
      }
      return items.filter((k) => k.name === name).map((k) => [k.client_id, k.assigned_user_ids]);
    };

    // Owners of one name in order: the admin space first, then the clients by id.
    expect(await list(admin.auth)).toEqual([
      [null, [alice.id]],
      [client.a.id, []],
      [client.b.id, []],
    ]);
    expect(await list(admin.auth, `&client_id=${client.a.id}`)).toEqual([[client.a.id, []]]);
    expect(await list(admin.auth, '&space=admin')).toEqual([[null, [alice.id]]]);
    expect(await list(admin.auth, '&space=client')).toEqual([
      [client.a.id, []],
      [client.b.id, []],
    ]);
    expect(await list(asA)).toEqual([[client.a.id, []]]);
    expect(await list(asA, '&space=admin')).toEqual([]);
    const ofB = (await t.http().get(`/api/v1/keys?client_id=${client.b.id}&limit=100`).set(admin.auth)).body;
    expect(ofB.items.length).toBeGreaterThan(0);
    expect(ofB.items.every((k: { client_id: string }) => k.client_id === client.b.id)).toBe(true);
    const ofA = (await t.http().get('/api/v1/keys?limit=100').set(asA)).body;
    expect(ofA.items.every((k: { client_id: string }) => k.client_id === client.a.id)).toBe(true);
    expect((await t.http().get('/api/v1/keys?space=mine').set(admin.auth)).status).toBe(400);
    expect((await t.http().get('/api/v1/keys?client_id=not%20valid').set(admin.auth)).status).toBe(400);
  });

  it(
    'gives exactly k codes per owner to concurrent callers of same-named k-use keys',
    { timeout: 120_000 },
    async () => {
      const name = uniqueName('race');
      for (const auth of [asA, asB]) expect((await create(auth, { name, max_uses: 4 })).status).toBe(201);
      expect((await create(admin.auth, { name, max_uses: 4, assigned_user_ids: [alice.id] })).status).toBe(201);
      const callers = [asA, asB, alice.auth, bob.auth];
      const answers = await Promise.all(
        Array.from({ length: 160 }, (_, i) => use(callers[i % 4], 'code', name).then((res) => ({ i: i % 4, res }))),
      );
      const granted = (who: number) => answers.filter((a) => a.i === who && a.res.status === 200).length;
      expect([0, 1, 2, 3].map(granted)).toEqual([4, 4, 4, 0]);
      expect(answers.filter((a) => a.i === 3).every((a) => a.res.body.code === 'KEY_NOT_FOUND')).toBe(true);
      const counts = await t.dataSource.query(
        `SELECT coalesce(client_id, '') AS owner, usage_count FROM usage_keys WHERE name = $1 ORDER BY 1`,
        [name],
      );
      expect(counts.map((r: { usage_count: number }) => r.usage_count)).toEqual([4, 4, 4]);
    },
  );
});

describe('usage-key tenancy migration', () => {
  it('keeps existing keys as admin-space keys and makes names unique per owner', { timeout: 120_000 }, async () => {
    const db = await scratchDatabase();
    const ds = await new DataSource(dataSourceOptions({ url: db.url, ssl: false, poolSize: 2 })).initialize();
    try {
      await runMigrations(ds);
      // Back to the schema before tenancy (undoing any later migrations first).
      const applied = async () => (await ds.query('SELECT name FROM migrations')).map((m: { name: string }) => m.name);
      while ((await applied()).includes('UsageKeyTenancy1795412000000')) await ds.undoLastMigration();
      await ds.query(`INSERT INTO usage_keys (name, secret, max_uses, usage_count) VALUES ('legacy', 'x', 5, 2)`);
      expect(await runMigrations(ds)).toContain('UsageKeyTenancy1795412000000');
      expect(await ds.query(`SELECT name, client_id, max_uses, usage_count FROM usage_keys`)).toEqual([
        { name: 'legacy', client_id: null, max_uses: 5, usage_count: 2 },
      ]);
      await ds.query(`INSERT INTO usage_keys (name, secret, client_id) VALUES ('legacy', 'x', 'acme')`);
      await expect(ds.query(`INSERT INTO usage_keys (name, secret) VALUES ('legacy', 'x')`)).rejects.toThrow(
        /UQ_usage_keys_owner_name/,
      );
      await expect(
        ds.query(`INSERT INTO usage_keys (name, secret, client_id) VALUES ('legacy', 'x', 'acme')`),
      ).rejects.toThrow(/UQ_usage_keys_owner_name/);
    } finally {
      await ds.destroy();
      await db.drop();
    }
  });
});
