import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InvalidationChannel } from '../src/database/invalidation-channel.js';
import { FakeClock } from './support/fake-clock.js';
import { createUser, login, PASSWORD, stepUp, TestUser, uniqueName } from './support/identity.js';
import { bootApp, TestApp, testSecret } from './support/test-app.js';

/**
 * Credential lookups are cached in each instance; a change that ends or narrows a credential
 * reaches every instance on the same database before the request that made it answers.
 * Throughout, instance B serves from its cache (shown by counting its statements), the change
 * is made on instance A, and B's very next request is judged — no waiting in between.
 */

const onPostgres = inject('databaseKind') === 'postgres';
const LIVE_DEADLINE_MS = 10_000;

/** Counts the statements one instance sends that look a credential up. */
function lookupCounter(t: TestApp): () => number {
  let lookups = 0;
  const logger = t.dataSource.logger;
  const logQuery = logger.logQuery.bind(logger);
  logger.logQuery = (query, parameters, runner) => {
    if (/^\s*SELECT\b[\s\S]*\bFROM\s+"?(sessions|api_keys)\b/i.test(query)) lookups += 1;
    logQuery(query, parameters, runner);
  };
  return () => lookups;
}

/** The statements a request made that looked a credential up. */
async function lookupsOf(count: () => number, request: () => Promise<{ status: number }>, status: number) {
  const before = count();
  const res = await request();
  expect(res.status).toBe(status);
  return count() - before;
}

const channelOf = (t: TestApp): InvalidationChannel => t.app.get(InvalidationChannel);
const sessionIdOf = (accessToken: string): string =>
  (JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString()) as { sid: string }).sid;

describe('authentication caches: revocation reaches every instance at once', () => {
  const shared = { JWT_SECRET: testSecret(), MASTER_SECRETS: `1:${testSecret()}` };
  let a: TestApp;
  let b: TestApp;
  let lookupsOnB: () => number;
  let admin: TestUser;

  beforeAll(async () => {
    a = await bootApp(shared);
    b = await bootApp(shared);
    lookupsOnB = lookupCounter(b);
    if (onPostgres) {
      await channelOf(a).whenLive(true, LIVE_DEADLINE_MS);
      await channelOf(b).whenLive(true, LIVE_DEADLINE_MS);
    }
    admin = await createUser(a, { role: 'admin' });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  /** Two requests on B: the first reads the credential, the second is served from memory. */
  async function warm(request: () => Promise<{ status: number }>, status = 200): Promise<void> {
    await lookupsOf(lookupsOnB, request, status);
    expect(await lookupsOf(lookupsOnB, request, status)).toBe(onPostgres ? 0 : 1);
  }

  const newKey = async (scopes = ['devices:read']): Promise<{ id: string; key: string }> => {
    const res = await a
      .http()
      .post('/api/v1/api-keys')
      .set(admin.auth)
      .send({ name: uniqueName('key'), client_id: uniqueName('client'), scopes });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { id: res.body.id, key: res.body.key };
  };
  const listDevices = (t: TestApp, key: string) => t.http().get('/api/v1/devices').set('x-api-key', key);
  const me = (t: TestApp, user: Pick<TestUser, 'auth'>) => t.http().get('/api/v1/users/me').set(user.auth);

  it(
    onPostgres
      ? 'both instances hear the channel (a notice sent from another connection arrives)'
      : 'on a PGlite shared over its socket no notice reaches another connection, so the caches stay off',
    () => {
      expect(channelOf(a).live).toBe(onPostgres);
      expect(channelOf(b).live).toBe(onPostgres);
    },
  );

  it('refuses a revoked API key on the next request to the other instance', async () => {
    const { id, key } = await newKey();
    await warm(() => listDevices(b, key));
    expect((await a.http().delete(`/api/v1/api-keys/${id}`).set(admin.auth)).status).toBe(204);
    const res = await listDevices(b, key);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('INVALID_API_KEY');
  });

  it('refuses the old secret of a rotated API key on the other instance, and takes the new one', async () => {
    const { id, key } = await newKey();
    await warm(() => listDevices(b, key));
    await stepUp(a, admin);
    const rotated = await a.http().post(`/api/v1/api-keys/${id}/rotate`).set(admin.auth);
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect((await listDevices(b, key)).status).toBe(401);
    expect((await listDevices(b, rotated.body.key as string)).status).toBe(200);
  });

  it('refuses a logged-out session on the other instance', async () => {
    const user = await createUser(a);
    await warm(() => me(b, user));
    expect((await a.http().post('/api/v1/auth/logout').set(user.auth).send({})).status).toBe(204);
    const res = await me(b, user);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('INVALID_TOKEN');
  });

  it('refuses a session ended from another session (DELETE auth/sessions/:id) on the other instance', async () => {
    const user = await createUser(a);
    const second = await login(a, user.username, PASSWORD);
    await warm(() => me(b, second));
    const ended = await a
      .http()
      .delete(`/api/v1/auth/sessions/${sessionIdOf(second.accessToken)}`)
      .set(user.auth);
    expect(ended.status).toBe(204);
    expect((await me(b, second)).status).toBe(401);
    expect((await me(b, user)).status).toBe(200);
  });

  it('refuses the whole family on the other instance when a used refresh token comes back', async () => {
    const user = await createUser(a);
    const refreshed = await a.http().post('/api/v1/auth/refresh').send({ refresh_token: user.refreshToken });
    expect(refreshed.status).toBe(200);
    const current = { authorization: `Bearer ${refreshed.body.access_token}` };
    await warm(() => me(b, { auth: current }));
    const replay = await a.http().post('/api/v1/auth/refresh').send({ refresh_token: user.refreshToken });
    expect(replay.status).toBe(401);
    expect((await me(b, { auth: current })).status).toBe(401);
  });

  it('refuses a disabled user on the other instance', async () => {
    const user = await createUser(a);
    await warm(() => me(b, user));
    const disabled = await a.http().patch(`/api/v1/users/${user.id}`).set(admin.auth).send({ is_active: false });
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
    expect((await me(b, user)).status).toBe(401);
  });

  it('refuses an administrator route on the other instance to an admin just demoted', async () => {
    const other = await createUser(a, { role: 'admin' });
    await warm(() => b.http().get('/api/v1/users').set(other.auth));
    const demoted = await a.http().patch(`/api/v1/users/${other.id}`).set(admin.auth).send({ role: 'user' });
    expect(demoted.status, JSON.stringify(demoted.body)).toBe(200);
    expect((await b.http().get('/api/v1/users').set(other.auth)).status).toBe(403);
    // The session itself lives on: only the role changed.
    expect((await me(b, other)).status).toBe(200);
  });

  it("ends the user's other sessions on the other instance when the password changes", async () => {
    const user = await createUser(a);
    const other = await login(a, user.username, PASSWORD);
    await warm(() => me(b, other));
    const changed = await a
      .http()
      .post('/api/v1/auth/change-password')
      .set(user.auth)
      .send({ current_password: PASSWORD, new_password: 'Another-Horse-7!' });
    expect(changed.status, JSON.stringify(changed.body)).toBe(204);
    expect((await me(b, other)).status).toBe(401);
    expect((await me(b, user)).status).toBe(200);
  });

  it('sees a step-up made on the other instance at once', async () => {
    const { id } = await newKey();
    const other = await createUser(a, { role: 'admin' });
    await warm(() => me(b, other));
    expect((await b.http().post(`/api/v1/api-keys/${id}/rotate`).set(other.auth)).body.code).toBe('STEP_UP_REQUIRED');
    await stepUp(a, other);
    expect((await b.http().post(`/api/v1/api-keys/${id}/rotate`).set(other.auth)).status).toBe(200);
  });

  it.runIf(onPostgres)(
    'bypasses the cache while its listening connection is lost, and caches again once it listens',
    async () => {
      const { id, key } = await newKey();
      await warm(() => listDevices(b, key));
      const pid = channelOf(b).listenerPid;
      expect(pid).toEqual(expect.any(Number));
      await a.dataSource.query('SELECT pg_terminate_backend($1)', [pid]);
      await channelOf(b).whenLive(false, LIVE_DEADLINE_MS);

      // Deaf: every request reads the key again, so a revocation is still seen at once.
      expect(await lookupsOf(lookupsOnB, () => listDevices(b, key), 200)).toBe(1);
      expect(await lookupsOf(lookupsOnB, () => listDevices(b, key), 200)).toBe(1);
      expect(channelOf(b).live).toBe(false); // both were answered while deaf (it retries after a second)
      expect((await a.http().delete(`/api/v1/api-keys/${id}`).set(admin.auth)).status).toBe(204);
      expect((await listDevices(b, key)).status).toBe(401);

      await channelOf(b).whenLive(true, LIVE_DEADLINE_MS);
      expect(channelOf(b).listenerPid).not.toBe(pid);
      const fresh = await newKey();
      await warm(() => listDevices(b, fresh.key));
    },
  );
});

/**
 * The embedded database's case: no delivery between connections is proven, the process's own
 * connections hear their own changes. On PGlite (shared over its socket here) only those do, so
 * there these tests show that the writing connection's notice alone drops the entry.
 */
describe('authentication caches on a database this process alone opens', () => {
  const clock = new FakeClock(new Date('2026-06-01T10:00:00Z'));
  let t: TestApp;
  let count: () => number;

  beforeAll(async () => {
    t = await bootApp({ AUTH_CACHE_TTL_MS: '2000' }, { exclusiveDatabase: true, clock });
    count = lookupCounter(t);
    await channelOf(t).whenLive(true, LIVE_DEADLINE_MS);
  });
  afterAll(() => t?.close());

  it('serves a warmed session from memory, and its own logout ends it on the next request', async () => {
    const user = await createUser(t);
    await lookupsOf(count, () => t.http().get('/api/v1/users/me').set(user.auth), 200);
    expect(await lookupsOf(count, () => t.http().get('/api/v1/users/me').set(user.auth), 200)).toBe(0);
    expect((await t.http().post('/api/v1/auth/logout').set(user.auth).send({})).status).toBe(204);
    expect((await t.http().get('/api/v1/users/me').set(user.auth)).status).toBe(401);
  });

  it('serves a warmed API key from memory, and its own revocation ends it on the next request', async () => {
    const admin = await createUser(t, { role: 'admin' });
    const created = await t
      .http()
      .post('/api/v1/api-keys')
      .set(admin.auth)
      .send({ name: uniqueName('key'), client_id: 'local', scopes: ['devices:read'] });
    const key = created.body.key as string;
    const list = () => t.http().get('/api/v1/devices').set('x-api-key', key);
    await lookupsOf(count, list, 200);
    expect(await lookupsOf(count, list, 200)).toBe(0);
    expect((await t.http().delete(`/api/v1/api-keys/${created.body.id}`).set(admin.auth)).status).toBe(204);
    expect((await list()).status).toBe(401);
  });

  it('reads a cached session again once AUTH_CACHE_TTL_MS has passed', async () => {
    const user = await createUser(t);
    const me = () => t.http().get('/api/v1/users/me').set(user.auth);
    await lookupsOf(count, me, 200);
    clock.advance(1_999);
    expect(await lookupsOf(count, me, 200)).toBe(0);
    clock.advance(1);
    expect(await lookupsOf(count, me, 200)).toBe(1);
  });
});

describe('authentication caches switched off (AUTH_CACHE_TTL_MS=0)', () => {
  let t: TestApp;
  let count: () => number;

  beforeAll(async () => {
    t = await bootApp({ AUTH_CACHE_TTL_MS: '0' }, { exclusiveDatabase: true });
    count = lookupCounter(t);
    await channelOf(t).whenLive(true, LIVE_DEADLINE_MS);
  });
  afterAll(() => t?.close());

  it('reads the session on every request', async () => {
    const user = await createUser(t);
    const me = () => t.http().get('/api/v1/users/me').set(user.auth);
    expect(await lookupsOf(count, me, 200)).toBe(1);
    expect(await lookupsOf(count, me, 200)).toBe(1);
  });
});
