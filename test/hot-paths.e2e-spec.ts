import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from './support/fake-clock.js';
import { createClientUsageKey, createUser, issueApiKey, stepUp, TestUser, uniqueName } from './support/identity.js';
import { referenceHotp, referenceTotp } from './support/reference-totp.js';
import { bootApp, TestApp } from './support/test-app.js';

/** RFC 6238 (SHA-1, 6 digits, 30 s) over a device's raw derived key: the device's own arithmetic. */
const totp = (derivedKeyBase64: string, atMs: number): string =>
  referenceHotp(Buffer.from(derivedKeyBase64, 'base64'), Math.floor(atMs / 30_000));

/** RFC 6238 (SHA-1, 6 digits, 30 s) of a base32 secret. */
const totpOfBase32 = (base32: string, atMs: number): string => referenceTotp(base32, Math.floor(atMs / 1000));

/**
 * Every statement the app sends while `run` runs, read off the driver (the app and this file
 * share the `pg` module): what a request costs in round trips, whatever the machine's speed.
 */
async function statementsDuring(run: () => Promise<unknown>, names: Array<string | undefined> = []): Promise<string[]> {
  const seen: string[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string; name?: string };
    seen.push(typeof first === 'string' ? first : (first?.text ?? ''));
    names.push(typeof first === 'string' ? undefined : first?.name);
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await run();
  } finally {
    pg.Client.prototype.query = original;
  }
  return seen;
}

const touching = (statements: string[], table: string): string[] =>
  statements.filter((sql) => new RegExp(`\\b${table}\\b`).test(sql));

describe('hot paths', () => {
  const clock = new FakeClock(new Date('2026-06-01T00:00:05Z'));
  let t: TestApp;
  let admin: TestUser;
  let apiKey: string;

  beforeAll(async () => {
    t = await bootApp({}, { clock });
    admin = await createUser(t, { role: 'admin' });
    apiKey = await issueApiKey(t, admin, 'hot-path', ['devices:write', 'devices:verify', 'keys:use', 'keys:admin']);
  });
  afterEach(() => clock.advance(30_000));
  afterAll(() => t.close());

  const register = async (): Promise<{ device_id: string; derived_key: string }> => {
    const res = await t
      .http()
      .post('/api/v1/devices/register')
      .set('x-api-key', apiKey)
      .send({ device_id: uniqueName('dev'), user_id: uniqueName('u') });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const verify = (body: object) => t.http().post('/api/v1/devices/verify').set('x-api-key', apiKey).send(body);

  it('accepts a right device code with one statement on devices, which also writes its audit record', async () => {
    const device = await register();
    let res: Awaited<ReturnType<typeof verify>> | undefined;
    const names: Array<string | undefined> = [];
    const statements = await statementsDuring(async () => {
      res = await verify({ device_id: device.device_id, otp: totp(device.derived_key, clock.now().getTime()) });
    }, names);
    // A named prepared statement on Postgres; unnamed on the embedded PGlite, whose one session all connections share.
    const claimName = names[statements.findIndex((sql) => /UPDATE devices/.test(sql))];
    if (process.env.TEST_DATABASE_URL) expect(claimName).toMatch(/^s_[0-9a-f]{20}$/);
    else expect(claimName).toBeUndefined();
    expect(res!.status).toBe(200);
    expect(res!.body.valid).toBe(true);
    const onDevices = touching(statements, 'devices');
    expect(onDevices).toHaveLength(1);
    expect(onDevices[0]).toMatch(/UPDATE devices[\s\S]*INSERT INTO audit_logs/);
    const [audited] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_logs WHERE action = 'device.verify' AND status = 'success'
          AND details->>'device_id' = $1 AND details->>'user_id' IS NOT NULL`,
      [device.device_id],
    );
    expect(audited.n).toBe(1);
  });

  it('answers a replayed device code as invalid after the one-statement path declines it', async () => {
    const device = await register();
    const code = totp(device.derived_key, clock.now().getTime());
    expect((await verify({ device_id: device.device_id, otp: code })).body.valid).toBe(true);
    const replay = await verify({ device_id: device.device_id, otp: code });
    expect(replay.status).toBe(200);
    expect(replay.body.valid).toBe(false);
  });

  it("refuses the old key's code after a re-key on another instance, though this one last saw the old key", async () => {
    const device = await register();
    // A wrong code takes the full path, which notes the device's key generation on this instance.
    expect((await verify({ device_id: device.device_id, otp: '000000' })).status).toBe(200);
    const other = await bootApp({ JWT_SECRET: t.config.jwt.secret, MASTER_SECRETS: masterSecretsOf(t) }, { clock });
    try {
      const rekeyed = await other.http().post(`/api/v1/devices/${device.device_id}/rekey`).set('x-api-key', apiKey);
      expect(rekeyed.status, JSON.stringify(rekeyed.body)).toBe(200);
      const now = clock.now().getTime();
      expect((await verify({ device_id: device.device_id, otp: totp(device.derived_key, now) })).body.valid).toBe(
        false,
      );
      expect((await verify({ device_id: device.device_id, otp: totp(rekeyed.body.derived_key, now) })).body.valid).toBe(
        true,
      );
    } finally {
      await other.close();
    }
  });

  it('records a generation event per code computed, and answers a repeated view in its step with one read', async () => {
    const person = await createUser(t);
    const uris = Array.from({ length: 12 }, (_, i) => `otpauth://totp/Acme:a${i}?secret=JBSWY3DPEHPK3PXP&issuer=Acme`);
    const imported = await t.http().post('/api/v1/otp/configs/import').set(person.auth).send({ uris });
    expect(imported.status, JSON.stringify(imported.body)).toBeLessThan(300);
    const generations = async (): Promise<number> => {
      const [events] = await t.dataSource.query(
        `SELECT count(*)::int AS n FROM otp_events WHERE user_id = $1 AND event_type = 'generate'`,
        [person.id],
      );
      return events.n;
    };
    const view = () => t.http().get('/api/v1/otp/codes').set(person.auth);

    const first = await view();
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(12);
    expect(await generations()).toBe(12);

    let again: { status: number; body: { items: Array<{ code: string }> } } | undefined;
    const statements = await statementsDuring(async () => {
      again = await view();
    });
    expect(again!.body.items.map((item) => item.code)).toEqual(
      first.body.items.map((item: { code: string }) => item.code),
    );
    const onConfigsOrEvents = statements.filter((sql) => /\botp_(configs|events)\b/.test(sql));
    expect(onConfigsOrEvents).toHaveLength(1);
    expect(onConfigsOrEvents[0]).toMatch(/^SELECT [\s\S]*FROM otp_configs/);
    expect(await generations()).toBe(12);

    clock.advance(30_000);
    await view();
    expect(await generations()).toBe(24);
  });

  it('shows the code of a replaced secret in the same step, although the old code was shown in it', async () => {
    const person = await createUser(t);
    const created = await t
      .http()
      .post('/api/v1/otp/configs')
      .set(person.auth)
      .send({ name: 'Rotated', otp_type: 'totp', secret: 'JBSWY3DPEHPK3PXP' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const now = clock.now().getTime();
    const liveCode = async () => (await t.http().get('/api/v1/otp/codes').set(person.auth)).body.items[0].code;
    expect(await liveCode()).toBe(totpOfBase32('JBSWY3DPEHPK3PXP', now));
    await stepUp(t, person);
    const replaced = await t
      .http()
      .post(`/api/v1/otp/configs/${created.body.id}/secret`)
      .set(person.auth)
      .send({ secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' });
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect(await liveCode()).toBe(totpOfBase32('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', now));
  });

  describe('validating a TOTP code', () => {
    const setUp = async () => {
      const person = await createUser(t);
      const created = await t
        .http()
        .post('/api/v1/otp/configs')
        .set(person.auth)
        .send({ name: 'Validated', otp_type: 'totp', secret: 'JBSWY3DPEHPK3PXP' });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const validate = (otp_code: string) =>
        t.http().post('/api/v1/otp/validate').set(person.auth).send({ config_id: created.body.id, otp_code });
      // A first validation (a wrong code) reads the configuration and remembers it.
      expect((await validate('000000')).body.is_valid).toBe(false);
      clock.advance(30_000);
      return { person, id: created.body.id as string, validate };
    };

    it('accepts a right code with one statement on otp_configs once the configuration is known', async () => {
      const { validate } = await setUp();
      let res: { status: number; body: { is_valid: boolean } } | undefined;
      const statements = await statementsDuring(async () => {
        res = await validate(totpOfBase32('JBSWY3DPEHPK3PXP', clock.now().getTime()));
      });
      expect(res!.body.is_valid).toBe(true);
      const onConfigs = touching(statements, 'otp_configs');
      expect(onConfigs).toHaveLength(1);
      expect(onConfigs[0]).toMatch(/UPDATE otp_configs[\s\S]*INSERT INTO otp_events/);
    });

    it("refuses the old secret's code after the secret is replaced, though this instance remembered it", async () => {
      const { person, id, validate } = await setUp();
      await stepUp(t, person);
      const replaced = await t
        .http()
        .post(`/api/v1/otp/configs/${id}/secret`)
        .set(person.auth)
        .send({ secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' });
      expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
      const now = clock.now().getTime();
      expect((await validate(totpOfBase32('JBSWY3DPEHPK3PXP', now))).body.is_valid).toBe(false);
      expect((await validate(totpOfBase32('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', now))).body.is_valid).toBe(true);
    });

    it("answers another person's configuration as missing, though this instance remembered it", async () => {
      const { id } = await setUp();
      const other = await createUser(t);
      const res = await t
        .http()
        .post('/api/v1/otp/validate')
        .set(other.auth)
        .send({ config_id: id, otp_code: totpOfBase32('JBSWY3DPEHPK3PXP', clock.now().getTime()) });
      expect(res.status).toBe(404);
    });

    it('answers a replayed code as invalid after the one-statement path declines it', async () => {
      const { validate } = await setUp();
      const code = totpOfBase32('JBSWY3DPEHPK3PXP', clock.now().getTime());
      expect((await validate(code)).body.is_valid).toBe(true);
      const replay = await validate(code);
      expect(replay.status).toBe(200);
      expect(replay.body.is_valid).toBe(false);
    });
  });

  it('hands out a usage-limited key code with one statement on usage_keys', async () => {
    const key = await createClientUsageKey(t, apiKey, { max_uses: 3 });
    let res: { status: number; body: { code: string } } | undefined;
    const statements = await statementsDuring(async () => {
      res = await t.http().post('/api/v1/keys/code').set('x-api-key', apiKey).send({ key: key.name });
    });
    expect(res!.status).toBe(200);
    expect(res!.body.code).toMatch(/^\d{6}$/);
    expect(touching(statements, 'usage_keys')).toHaveLength(1);
  });
});

/** The master secrets a second instance needs to derive the same device keys. */
function masterSecretsOf(t: TestApp): string {
  return [...t.config.masterSecrets.secrets]
    .map(([version, secret]) => `${version}:${secret.toString('utf8')}`)
    .join(',');
}
