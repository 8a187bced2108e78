import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock } from '../src/common/clock.js';
import { ApiKeysService } from '../src/api-keys/api-keys.service.js';
import { AuthService } from '../src/auth/auth.service.js';
import { DevicesService } from '../src/devices/devices.service.js';
import { UsageKeysService } from '../src/keys/usage-keys.service.js';
import { MetricsService } from '../src/metrics/metrics.service.js';
import { OtpEventsService } from '../src/otp-configs/otp-events.service.js';
import { UsersService } from '../src/users/users.service.js';
import { FakeClock } from './support/fake-clock.js';
import { decodeBase32 } from '../src/otp/base32.js';
import { generateTotp } from '../src/otp/otp-engine.js';
import { createUser, PASSWORD, stepUp, TestUser, uniqueName } from './support/identity.js';
import { scratchDatabase, ScratchDatabase } from './support/scratch-database.js';
import { bootApp, TestApp } from './support/test-app.js';

const DAY_MS = 86_400_000;
const totpNow = (base32: string): string =>
  generateTotp({ secret: decodeBase32(base32), algorithm: 'sha1', digits: 6, period: 30, now: Date.now() }).code;
/** A 6-digit code that is not `code` (a wrong guess; a window neighbour matches with ~2e-6 odds). */
const wrong = (code: string): string => String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');
const day = (offset: number): string =>
  new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS + offset * DAY_MS).toISOString().slice(0, 10);

/**
 * Statistics equal what this suite did, in a database of its own: every count below is
 * the sum of the requests (and, for back-dated events, SQL inserts) made here.
 */
describe('metrics/me and metrics/system', () => {
  let db: ScratchDatabase;
  let t: TestApp;
  let admin: TestUser;
  let alice: TestUser;
  let bob: TestUser;

  const post = (path: string, auth: Record<string, string>, body: object = {}) =>
    t.http().post(`/api/v1/${path}`).set(auth).send(body);

  beforeAll(async () => {
    db = await scratchDatabase();
    t = await bootApp({ DATABASE_URL: db.url, METRICS_SYSTEM_CACHE_MS: '0' });
    // Users: the bootstrap admin (never signed in) plus five who sign in today.
    admin = await createUser(t, { role: 'admin' });
    alice = await createUser(t);
    bob = await createUser(t);
    const carol = await createUser(t);
    const dave = await createUser(t);
    // carol: five wrong passwords lock her account.
    for (let i = 0; i < 5; i++) {
      await post('auth/login', {}, { username: carol.username, password: 'Wrong-Password-9!' }).expect(401);
    }
    // dave: disabled by an administrator.
    await t.http().patch(`/api/v1/users/${dave.id}`).set(admin.auth).send({ is_active: false }).expect(200);
    // bob: enables MFA; a sign-in without the code is a prompt, not a failure.
    await stepUp(t, bob);
    const enrol = await post('auth/mfa/enable', bob.auth).expect(200);
    await post('auth/mfa/verify', bob.auth, { code: totpNow(enrol.body.mfa_secret) }).expect(200);
    expect((await post('auth/login', {}, { username: bob.username, password: PASSWORD })).body.mfa_required).toBe(true);

    // OTP configurations: alice 2 TOTP + 1 HOTP (one TOTP deactivated), bob 1 TOTP.
    const config = async (user: TestUser, body: object) => {
      const res = await post('otp/configs', user.auth, { name: uniqueName('cfg'), ...body });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body as { id: string; secret: string };
    };
    const a1 = await config(alice, { otp_type: 'totp' });
    const a2 = await config(alice, { otp_type: 'totp' });
    const a3 = await config(alice, { otp_type: 'hotp' });
    const b1 = await config(bob, { otp_type: 'totp' });
    await t.http().patch(`/api/v1/otp/configs/${a3.id}`).set(alice.auth).send({ is_active: false }).expect(200);

    // alice today: 4 generations, 2 successful and 3 failed validations; bob: 1 generation.
    const generate = async (user: TestUser, id: string): Promise<string> => {
      const res = await post('otp/generate', user.auth, { config_id: id });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.code as string;
    };
    const validate = async (id: string, code: string, valid: boolean) => {
      const res = await post('otp/validate', alice.auth, { config_id: id, otp_code: code });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.is_valid).toBe(valid);
    };
    const c1 = await generate(alice, a1.id);
    await generate(alice, a1.id);
    const c2 = await generate(alice, a2.id);
    await generate(alice, a2.id);
    await generate(bob, b1.id);
    await validate(a1.id, c1, true);
    await validate(a2.id, c2, true);
    for (let i = 0; i < 3; i++) await validate(a2.id, wrong(c2), false);
    // Back-dated events (no API writes the past): 3 days ago and 8 days ago.
    const insert = (type: string, daysAgo: number) =>
      t.dataSource.query(
        `INSERT INTO otp_events (user_id, config_id, event_type, created_at) VALUES ($1, $2, $3, now() - make_interval(days => $4))`,
        [alice.id, a1.id, type, daysAgo],
      );
    await insert('generate', 3);
    await insert('generate', 3);
    await insert('validate_failure', 3);
    await insert('generate', 8);

    // API keys: devices and keys clients, and a third one revoked.
    const apiKey = async (scopes: string[]) => {
      const res = await post('api-keys', admin.auth, { name: uniqueName('k'), client_id: 'acme', scopes });
      expect(res.status).toBe(201);
      return res.body as { id: string; key: string };
    };
    const devicesKey = { 'x-api-key': (await apiKey(['devices:write', 'devices:verify'])).key };
    const keysKey = { 'x-api-key': (await apiKey(['keys:use', 'keys:admin'])).key };
    const revoked = await apiKey(['keys:use']);
    await t.http().delete(`/api/v1/api-keys/${revoked.id}`).set(admin.auth).expect(204);

    // Devices: 3 registered, 1 verified, 1 deactivated.
    const devices = [];
    for (let i = 0; i < 3; i++) {
      const res = await post('devices/register', devicesKey, {
        device_id: uniqueName('dev'),
        user_id: `end-user-${i}`,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      devices.push(res.body as { device_id: string; secret: string });
    }
    const verified = await post('devices/verify', devicesKey, {
      device_id: devices[0].device_id,
      otp: totpNow(devices[0].secret),
    });
    expect(verified.body.valid).toBe(true);
    await post(`devices/${devices[2].device_id}/deactivate`, devicesKey).expect(200);

    // Usage-limited keys: limit 2 used once, limit 1 used once (depleted, then refused), unlimited used twice.
    const names = [uniqueName('two'), uniqueName('one'), uniqueName('free')];
    for (const [name, max] of [
      [names[0], 2],
      [names[1], 1],
      [names[2], -1],
    ] as const) {
      // The client's own keys, so its API key reaches them.
      await post('keys', keysKey, { name, max_uses: max }).expect(201);
    }
    for (const name of [names[0], names[1], names[2], names[2]]) {
      await post('keys/code', keysKey, { key: name }).expect(200);
    }
    expect((await post('keys/code', keysKey, { key: names[1] })).body.code).toBe('KEY_DEPLETED');
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('metrics/me answers my configurations, totals, success rate and the last 7 days', async () => {
    const res = await t.http().get('/api/v1/metrics/me').set(alice.auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      total_configs: 3,
      active_configs: 2,
      total_generations: 7,
      total_validations: 6,
      successful_validations: 2,
      failed_validations: 4,
    });
    expect(res.body.success_rate).toBeCloseTo(2 / 6, 10);
    const days = res.body.last_7_days as Array<{ date: string }>;
    expect(days.map((d) => d.date)).toEqual([-6, -5, -4, -3, -2, -1, 0].map(day));
    const zero = { generations: 0, validations: 0, successful_validations: 0, failed_validations: 0 };
    expect(days).toEqual([
      { date: day(-6), ...zero },
      { date: day(-5), ...zero },
      { date: day(-4), ...zero },
      { date: day(-3), generations: 2, validations: 1, successful_validations: 0, failed_validations: 1 },
      { date: day(-2), ...zero },
      { date: day(-1), ...zero },
      { date: day(0), generations: 4, validations: 5, successful_validations: 2, failed_validations: 3 },
    ]);
    const bobs = await t.http().get('/api/v1/metrics/me').set(bob.auth);
    expect(bobs.body).toMatchObject({
      total_configs: 1,
      total_generations: 1,
      total_validations: 0,
      success_rate: null,
    });
  });

  it('metrics/system answers the figures of everything done here', async () => {
    const res = await t.http().get('/api/v1/metrics/system').set(admin.auth);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      generated_at: expect.any(String),
      users: { total: 6, active: 5, active_today: 5 },
      configurations: { total: 4, active: 3, by_type: { totp: 3, hotp: 1 } },
      otp_usage: {
        generations: 8,
        validations: 6,
        successful_validations: 2,
        failed_validations: 4,
        success_rate: expect.closeTo(2 / 6, 10),
      },
      devices: { total: 3, active: 2, verified: 1 },
      usage_keys: { total: 3, depleted: 1, expired: 0, uses_24h: 4 },
      activity_24h: { logins: 5, failed_logins: 5, generations: 5, validations: 5 },
      security: { mfa_enabled_users: 1, locked_accounts: 1, active_api_keys: 2 },
    });
  });

  it('with METRICS_SYSTEM_CACHE_MS, reuses figures, then serves them stale while one refresh runs', async () => {
    const clock = new FakeClock(new Date());
    const service = new MetricsService(
      t.app.get(UsersService),
      t.app.get(AuthService),
      t.app.get(OtpEventsService),
      t.app.get(DevicesService),
      t.app.get(UsageKeysService),
      t.app.get(ApiKeysService),
      clock as Clock,
      { ...t.config, metricsSystemCacheMs: 5000 },
    );
    const first = await service.systemFigures();
    await t.dataSource.query(
      `INSERT INTO users (username, email, password_hash) VALUES ('cache_probe', 'cache_probe@example.com', 'x')`,
    );
    try {
      expect((await service.systemFigures()).users.total).toBe(first.users.total); // within the time: reused
      clock.advance(5001);
      const stale = await Promise.all([service.systemFigures(), service.systemFigures()]);
      expect(stale.map((f) => f.users.total)).toEqual([first.users.total, first.users.total]);
      // The one background refresh lands within a few database round trips.
      let total = first.users.total;
      for (let i = 0; i < 100 && total === first.users.total; i++) {
        await t.dataSource.query('SELECT 1');
        total = (await service.systemFigures()).users.total;
      }
      expect(total).toBe(first.users.total + 1);
    } finally {
      await t.dataSource.query(`DELETE FROM users WHERE username = 'cache_probe'`);
    }
  });

  it('keeps system figures for administrators (403 for a user, 401 without credentials)', async () => {
    expect((await t.http().get('/api/v1/metrics/system').set(alice.auth)).status).toBe(403);
    expect((await t.http().get('/api/v1/metrics/system')).status).toBe(401);
    expect((await t.http().get('/api/v1/metrics/me')).status).toBe(401);
  });
});
