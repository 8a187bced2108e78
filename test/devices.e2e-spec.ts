import { createHmac } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from './support/fake-clock.js';
import { createUser, TestUser, uniqueName } from './support/identity.js';
import { bootApp, TestApp, testSecret } from './support/test-app.js';

/** RFC 6238 with the RFC 4226 §5.3 truncation, written out here: no project code involved. */
function totp(derivedKeyBase64: string, atMs: number): string {
  const key = Buffer.from(derivedKeyBase64, 'base64');
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 1000 / 30)));
  const hmac = createHmac('sha1', key).update(counter).digest();
  const offset = hmac[hmac.length - 1]! & 0x0f;
  const binary =
    ((hmac[offset]! & 0x7f) << 24) | (hmac[offset + 1]! << 16) | (hmac[offset + 2]! << 8) | hmac[offset + 3]!;
  return String(binary % 1_000_000).padStart(6, '0');
}

/** A 6-digit code that matches none of the steps the service accepts at `atMs`. */
function wrongCode(derivedKeyBase64: string, atMs: number): string {
  const taken = new Set([-1, 0, 1].map((d) => totp(derivedKeyBase64, atMs + d * 30_000)));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0');
    if (!taken.has(code)) return code;
  }
}

const STEP = 30_000;

describe('devices of enterprise clients', () => {
  const clock = new FakeClock(new Date('2026-05-01T00:00:05Z'));
  const master1 = testSecret();
  const master2 = testSecret();
  const logLines: string[] = [];
  let t: TestApp;
  let admin: TestUser;
  let keyA: string;
  let keyB: string;
  let verifyOnlyKey: string;
  let keyAId: string;

  const api = (key: string) => ({
    post: (path: string, body?: object) =>
      t
        .http()
        .post(`/api/v1/devices${path}`)
        .set('x-api-key', key)
        .send(body ?? {}),
    get: (path: string) => t.http().get(`/api/v1/devices${path}`).set('x-api-key', key),
  });
  const register = async (key: string, body: object = {}) => {
    const res = await api(key).post('/register', { device_id: uniqueName('dev'), user_id: uniqueName('u'), ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { device_id: string; user_id: string; derived_key: string; secret: string; key_version: number };
  };
  const verify = (key: string, body: object) => api(key).post('/verify', body);

  beforeAll(async () => {
    const logs = new PassThrough();
    logs.on('data', (chunk: Buffer) => logLines.push(chunk.toString()));
    t = await bootApp({ LOG_LEVEL: 'info', MASTER_SECRETS: `1:${master1}` }, { clock, logDestination: logs });
    admin = await createUser(t, { role: 'admin' });
    const issue = async (clientId: string, scopes: string[]) => {
      const res = await t
        .http()
        .post('/api/v1/api-keys')
        .set(admin.auth)
        .send({ name: `${clientId} key`, client_id: clientId, scopes });
      expect(res.status).toBe(201);
      return res.body as { key: string; id: string };
    };
    const a = await issue('acme', ['devices:write', 'devices:read', 'devices:verify']);
    keyA = a.key;
    keyAId = a.id;
    keyB = (await issue('globex', ['devices:write', 'devices:read', 'devices:verify'])).key;
    verifyOnlyKey = (await issue('acme', ['devices:verify'])).key;
  });
  afterAll(() => t.close());

  it('registers a device with a key derived from the master secret, shown once and stored only as a hash', async () => {
    const deviceId = uniqueName('phone');
    const res = await api(keyA).post('/register', { device_id: deviceId, user_id: 'alice', label: "Alice's phone" });
    expect(res.status).toBe(201);
    const expected = createHmac('sha256', Buffer.from(master1, 'utf8')).update(`acme:${deviceId}`).digest();
    expect(res.body).toMatchObject({
      device_id: deviceId,
      user_id: 'alice',
      label: "Alice's phone",
      derived_key: expected.toString('base64'),
      key_version: 1,
      created_at: clock.now().toISOString(),
    });
    expect(res.body.secret).toMatch(/^[A-Z2-7]{52}$/);
    expect(res.body.provisioning_uri).toBe(
      `otpauth://totp/acme:alice?secret=${res.body.secret}&issuer=acme&algorithm=SHA1&digits=6&period=30`,
    );
    expect(res.body.qr_code).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/=]{100,}$/);

    const [row] = await t.dataSource.query('SELECT * FROM devices WHERE device_id = $1', [deviceId]);
    const stored = JSON.stringify(row);
    for (const form of [expected.toString('base64'), expected.toString('hex'), res.body.secret]) {
      expect(stored).not.toContain(form);
    }
    expect(row.derived_key_hash).toMatch(/^[0-9a-f]{64}$/);

    const got = await api(keyA).get(`/${deviceId}`);
    expect(got.body).toMatchObject({ device_id: deviceId, is_active: true, verified: false, usage_count: 0 });
    expect(got.body).not.toHaveProperty('derived_key');
  });

  it('refuses the same device_id twice for one client (409) but not for another client', async () => {
    const device = await register(keyA);
    const again = await api(keyA).post('/register', { device_id: device.device_id, user_id: 'someone' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('DEVICE_EXISTS');
    const other = await register(keyB, { device_id: device.device_id });
    expect(other.derived_key).not.toBe(device.derived_key);
  });

  it('accepts the TOTP a client computes from derived_key alone, once', async () => {
    const device = await register(keyA);
    clock.advance(STEP);
    const code = totp(device.derived_key, clock.now().getTime());
    const ok = await verify(keyA, { device_id: device.device_id, otp: code });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ valid: true, device_id: device.device_id, drift: 0 });

    const replay = await verify(keyA, { device_id: device.device_id, otp: code });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ valid: false, device_id: device.device_id });

    const got = await api(keyA).get(`/${device.device_id}`);
    expect(got.body).toMatchObject({
      verified: true,
      verified_at: clock.now().toISOString(),
      usage_count: 1,
      last_used_at: clock.now().toISOString(),
    });
  });

  it('accepts one step of drift (T-1, T+1) and refuses T-2', async () => {
    clock.advance(STEP);
    const now = clock.now().getTime();
    const early = await register(keyA);
    expect(
      (await verify(keyA, { device_id: early.device_id, otp: totp(early.derived_key, now - 2 * STEP) })).body.valid,
    ).toBe(false);
    const behind = await verify(keyA, { device_id: early.device_id, otp: totp(early.derived_key, now - STEP) });
    expect(behind.body).toEqual({ valid: true, device_id: early.device_id, drift: -1 });
    // A later step is still fresh after T-1 was used.
    expect((await verify(keyA, { device_id: early.device_id, otp: totp(early.derived_key, now) })).body.valid).toBe(
      true,
    );

    const ahead = await register(keyA);
    const res = await verify(keyA, { device_id: ahead.device_id, otp: totp(ahead.derived_key, now + STEP) });
    expect(res.body).toEqual({ valid: true, device_id: ahead.device_id, drift: 1 });
    // The current step is now behind the accepted one: refused.
    expect((await verify(keyA, { device_id: ahead.device_id, otp: totp(ahead.derived_key, now) })).body.valid).toBe(
      false,
    );
  });

  it("answers 404 for another client's device on get, verify, deactivate, reactivate and rekey", async () => {
    const device = await register(keyA);
    const code = totp(device.derived_key, clock.now().getTime());
    const attempts = [
      api(keyB).get(`/${device.device_id}`),
      verify(keyB, { device_id: device.device_id, otp: code }),
      verify(keyB, { user_id: device.user_id, otp: code }),
      api(keyB).post(`/${device.device_id}/deactivate`),
      api(keyB).post(`/${device.device_id}/reactivate`),
      api(keyB).post(`/${device.device_id}/rekey`),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('DEVICE_NOT_FOUND');
    }
    const listed = await api(keyB).get(`?user_id=${device.user_id}`);
    expect(listed.body).toMatchObject({ items: [], total: 0 });
    // Untouched for its owner: still active and the code was not used up.
    expect((await api(keyA).get(`/${device.device_id}`)).body.is_active).toBe(true);
    expect((await verify(keyA, { device_id: device.device_id, otp: code })).body.valid).toBe(true);
  });

  it('accepts exactly one of 20 concurrent verifications of one code', async () => {
    clock.advance(STEP);
    const device = await register(keyA);
    const code = totp(device.derived_key, clock.now().getTime());
    const results = await Promise.all(
      Array.from({ length: 20 }, () => verify(keyA, { device_id: device.device_id, otp: code })),
    );
    expect(
      results.map((r) => r.status),
      JSON.stringify(results.find((r) => r.status !== 200)?.body),
    ).toEqual(Array(20).fill(200));
    expect(results.filter((r) => r.body.valid === true)).toHaveLength(1);
    expect((await api(keyA).get(`/${device.device_id}`)).body.usage_count).toBe(1);
  });

  it('locks a device after 10 consecutive failures for 15 minutes, then accepts it again', async () => {
    clock.advance(STEP);
    const device = await register(keyA);
    const now = clock.now().getTime();
    const bad = wrongCode(device.derived_key, now);
    for (let i = 0; i < 10; i++) {
      const res = await verify(keyA, { device_id: device.device_id, otp: bad });
      expect(res.status).toBe(200);
      expect(res.body.valid).toBe(false);
    }
    const refused = await verify(keyA, { device_id: device.device_id, otp: totp(device.derived_key, now) });
    expect(refused.status).toBe(423);
    expect(refused.body.code).toBe('DEVICE_LOCKED');
    const shown = (await api(keyA).get(`/${device.device_id}`)).body;
    expect(shown).toMatchObject({ locked: true, locked_until: new Date(now + 15 * 60_000).toISOString() });

    clock.advance(15 * 60_000);
    const later = clock.now().getTime();
    const ok = await verify(keyA, { device_id: device.device_id, otp: totp(device.derived_key, later) });
    expect(ok.body.valid).toBe(true);
    expect((await api(keyA).get(`/${device.device_id}`)).body).toMatchObject({ locked: false, locked_until: null });
  });

  it('resets the failure count on success', async () => {
    clock.advance(STEP);
    const device = await register(keyA);
    const bad = wrongCode(device.derived_key, clock.now().getTime());
    for (let i = 0; i < 9; i++) await verify(keyA, { device_id: device.device_id, otp: bad });
    const ok = await verify(keyA, {
      device_id: device.device_id,
      otp: totp(device.derived_key, clock.now().getTime()),
    });
    expect(ok.body.valid).toBe(true);
    for (let i = 0; i < 9; i++) await verify(keyA, { device_id: device.device_id, otp: bad });
    expect((await api(keyA).get(`/${device.device_id}`)).body.locked).toBe(false);
  });

  describe('the lock under concurrency and after a lapse', () => {
    const LIMIT = 10;
    const failures = async (deviceId: string): Promise<number> =>
      (await t.dataSource.query('SELECT failed_attempts AS n FROM devices WHERE device_id = $1', [deviceId]))[0].n;

    /** Every answer is a verdict (200) or a 423 DEVICE_LOCKED with its Retry-After header. */
    function tally(answers: Response[]): { valid: number; wrong: number; locked: number } {
      for (const answer of answers) {
        expect([200, 423], JSON.stringify(answer.body)).toContain(answer.status);
        if (answer.status === 423) {
          expect(answer.headers['retry-after']).toMatch(/^[1-9]\d*$/);
          expect(answer.body).toMatchObject({
            code: 'DEVICE_LOCKED',
            retry_after: Number(answer.headers['retry-after']),
            locked_until: expect.any(String),
          });
        }
      }
      return {
        valid: answers.filter((a) => a.status === 200 && a.body.valid).length,
        wrong: answers.filter((a) => a.status === 200 && !a.body.valid).length,
        locked: answers.filter((a) => a.status === 423).length,
      };
    }

    it(`answers at most ${LIMIT} of 200 concurrent wrong codes as wrong; the rest 423 with Retry-After`, async () => {
      clock.advance(STEP);
      const device = await register(keyA);
      const bad = wrongCode(device.derived_key, clock.now().getTime());
      const answers = await Promise.all(
        Array.from({ length: 200 }, () => verify(keyA, { device_id: device.device_id, otp: bad })),
      );
      // Printed before the checks, so a run on code without the rule shows its figure too.
      const evaluated = answers.filter((a) => a.status !== 423).length;
      process.stdout.write(
        `devices/verify: ${evaluated} of 200 concurrent wrong codes evaluated (limit ${LIMIT}), ${200 - evaluated} answered 423\n`,
      );
      const { wrong, locked } = tally(answers);
      expect(wrong).toBe(LIMIT);
      expect(locked).toBe(200 - LIMIT);
      expect(await failures(device.device_id)).toBe(LIMIT);
    });

    it('by user_id, answers a wrong code as wrong only while it counts on every device tried', async () => {
      clock.advance(STEP);
      const user = uniqueName('u');
      const first = await register(keyA, { user_id: user });
      const second = await register(keyA, { user_id: user });
      const now = clock.now().getTime();
      const taken = new Set([first, second].flatMap((d) => [-1, 0, 1].map((s) => totp(d.derived_key, now + s * STEP))));
      const bad = ['000000', '111111', '222222', '333333', '444444', '555555', '666666'].find((c) => !taken.has(c))!;
      const answers = await Promise.all(Array.from({ length: 200 }, () => verify(keyA, { user_id: user, otp: bad })));
      const { wrong, locked } = tally(answers);
      expect(wrong).toBeLessThanOrEqual(LIMIT);
      expect(wrong + locked).toBe(200);
      for (const device of [first, second]) {
        expect(await failures(device.device_id)).toBe(LIMIT);
        expect((await api(keyA).get(`/${device.device_id}`)).body.locked).toBe(true);
      }
    });

    it('never accepts the right code hidden in a burst of wrong ones after the limit of wrong verdicts', async () => {
      for (const position of [15, 25]) {
        clock.advance(STEP);
        const device = await register(keyA);
        const now = clock.now().getTime();
        const bad = wrongCode(device.derived_key, now);
        const good = totp(device.derived_key, now);
        const answers = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            verify(keyA, { device_id: device.device_id, otp: i === position ? good : bad }),
          ),
        );
        const right = answers[position]!;
        const others = tally(answers.filter((_, i) => i !== position));
        expect(others.valid).toBe(0);
        if (right.status === 200) {
          expect(right.body.valid).toBe(true);
          // The success reset the count: what the count holds now came after it.
          expect(others.wrong - (await failures(device.device_id))).toBeLessThan(LIMIT);
        } else {
          expect(right.status).toBe(423);
          expect(others.wrong).toBeLessThanOrEqual(LIMIT);
        }
      }
    });

    it('counts again from zero once the lock lapses, locks again (audited) at the limit, and a success resets', async () => {
      clock.advance(STEP);
      const device = await register(keyA);
      const check = (otp: string) => verify(keyA, { device_id: device.device_id, otp });
      const badAt = () => wrongCode(device.derived_key, clock.now().getTime());
      for (let i = 0; i < LIMIT; i++) expect((await check(badAt())).body.valid).toBe(false);
      expect((await check(badAt())).status).toBe(423);

      clock.advance(15 * 60_000 + 1_000);
      const first = await check(badAt());
      expect(first.status).toBe(200);
      expect(first.body.valid).toBe(false);
      expect(await failures(device.device_id)).toBe(1);
      for (let i = 1; i < LIMIT; i++) expect((await check(badAt())).status).toBe(200);
      const relocked = await check(totp(device.derived_key, clock.now().getTime()));
      expect(relocked.status).toBe(423);
      expect(relocked.headers['retry-after']).toBe('900');
      const locks = await t.dataSource.query(
        `SELECT details FROM audit_logs WHERE action = 'device.lock' AND details->>'device_id' = $1`,
        [device.device_id],
      );
      expect(locks).toHaveLength(2);
      expect(locks[1].details).toMatchObject({ failures: LIMIT });

      clock.advance(15 * 60_000 + 1_000);
      expect((await check(badAt())).status).toBe(200);
      expect((await check(totp(device.derived_key, clock.now().getTime()))).body.valid).toBe(true);
      expect(await failures(device.device_id)).toBe(0);
    });
  });

  it('never accepts a code from a deactivated device; reactivation restores it', async () => {
    clock.advance(STEP);
    const device = await register(keyA);
    const code = totp(device.derived_key, clock.now().getTime());
    const off = await api(keyA).post(`/${device.device_id}/deactivate`);
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ is_active: false, deactivated_at: clock.now().toISOString() });
    expect((await verify(keyA, { device_id: device.device_id, otp: code })).body).toEqual({
      valid: false,
      device_id: device.device_id,
    });
    expect((await verify(keyA, { user_id: device.user_id, otp: code })).body).toEqual({
      valid: false,
      device_id: null,
    });

    const on = await api(keyA).post(`/${device.device_id}/reactivate`);
    expect(on.body).toMatchObject({ is_active: true, deactivated_at: null });
    expect((await verify(keyA, { device_id: device.device_id, otp: code })).body.valid).toBe(true);
  });

  it("verifies by user_id across the user's active devices", async () => {
    clock.advance(STEP);
    const user = uniqueName('u');
    const first = await register(keyA, { user_id: user });
    const second = await register(keyA, { user_id: user });
    const now = clock.now().getTime();
    const res = await verify(keyA, { user_id: user, otp: totp(second.derived_key, now) });
    expect(res.body).toEqual({ valid: true, device_id: second.device_id, drift: 0 });
    expect((await verify(keyA, { user_id: user, otp: totp(first.derived_key, now) })).body.device_id).toBe(
      first.device_id,
    );
    const unknown = await verify(keyA, { user_id: uniqueName('nobody'), otp: '123456' });
    expect(unknown.status).toBe(404);
  });

  it('lists the client devices with paging and filters', async () => {
    clock.advance(STEP);
    const user = uniqueName('u');
    const used = await register(keyA, { user_id: user });
    const idle = await register(keyA, { user_id: user });
    const off = await register(keyA, { user_id: user });
    await verify(keyA, { device_id: used.device_id, otp: totp(used.derived_key, clock.now().getTime()) });
    await api(keyA).post(`/${off.device_id}/deactivate`);

    const all = await api(keyA).get(`?user_id=${user}`);
    expect(all.body.total).toBe(3);
    const ids = (res: { body: { items: Array<{ device_id: string }> } }) =>
      res.body.items.map((d) => d.device_id).sort();
    expect(ids(await api(keyA).get(`?user_id=${user}&verified=true`))).toEqual([used.device_id]);
    expect(ids(await api(keyA).get(`?user_id=${user}&active=false`))).toEqual([off.device_id]);
    expect(ids(await api(keyA).get(`?user_id=${user}&active=true&verified=false`))).toEqual([idle.device_id]);
    const page = await api(keyA).get(`?user_id=${user}&limit=2&offset=2`);
    expect(page.body).toMatchObject({ total: 3, limit: 2, offset: 2 });
    expect(page.body.items).toHaveLength(1);
  });

  it('re-keys a device: the key changes, the old key stops, the new one verifies', async () => {
    clock.advance(STEP);
    const device = await register(keyA);
    const rekeyed = await api(keyA).post(`/${device.device_id}/rekey`);
    expect(rekeyed.status).toBe(200);
    expect(rekeyed.body.key_version).toBe(1);
    expect(rekeyed.body.derived_key).not.toBe(device.derived_key);
    const now = clock.now().getTime();
    expect((await verify(keyA, { device_id: device.device_id, otp: totp(device.derived_key, now) })).body.valid).toBe(
      false,
    );
    expect(
      (await verify(keyA, { device_id: device.device_id, otp: totp(rekeyed.body.derived_key, now) })).body.valid,
    ).toBe(true);
  });

  it('rotates the master secret: old devices keep verifying, new ones and re-keys use the new version', async () => {
    clock.advance(STEP);
    const old = await register(keyA);
    const t2 = await bootApp({ MASTER_SECRETS: `1:${master1},2:${master2}` }, { clock });
    try {
      const post = (path: string, body: object = {}) =>
        t2.http().post(`/api/v1/devices${path}`).set('x-api-key', keyA).send(body);
      const now = clock.now().getTime();
      expect((await post('/verify', { device_id: old.device_id, otp: totp(old.derived_key, now) })).body.valid).toBe(
        true,
      );

      const fresh = await post('/register', { device_id: uniqueName('dev'), user_id: 'bob' });
      expect(fresh.body.key_version).toBe(2);
      const expected = createHmac('sha256', Buffer.from(master2, 'utf8'))
        .update(`acme:${fresh.body.device_id}`)
        .digest();
      expect(fresh.body.derived_key).toBe(expected.toString('base64'));
      expect(
        (await post('/verify', { device_id: fresh.body.device_id, otp: totp(expected.toString('base64'), now) })).body
          .valid,
      ).toBe(true);
      // The instance that does not know version 2 says what to do rather than guessing.
      const unknownVersion = await verify(keyA, { device_id: fresh.body.device_id, otp: '123456' });
      expect(unknownVersion.status).toBe(409);
      expect(unknownVersion.body.code).toBe('DEVICE_REKEY_REQUIRED');
      // By user_id, that instance skips the version-2 device and still checks the version-1 one.
      await post('/register', { device_id: uniqueName('dev'), user_id: old.user_id });
      const byUser = await verify(keyA, { user_id: old.user_id, otp: totp(old.derived_key, now + STEP) });
      expect(byUser.body).toEqual({ valid: true, device_id: old.device_id, drift: 1 });

      const rekeyed = await post(`/${old.device_id}/rekey`);
      expect(rekeyed.body.key_version).toBe(2);
      expect(rekeyed.body.derived_key).not.toBe(old.derived_key);
      clock.advance(2 * STEP);
      const later = clock.now().getTime();
      expect((await post('/verify', { device_id: old.device_id, otp: totp(old.derived_key, later) })).body.valid).toBe(
        false,
      );
      expect(
        (await post('/verify', { device_id: old.device_id, otp: totp(rekeyed.body.derived_key, later) })).body.valid,
      ).toBe(true);
    } finally {
      await t2.close();
    }
  });

  it('rejects malformed input with 400 and the fields at fault', async () => {
    const fields = (res: { body: { errors: Array<{ field: string }> } }) => res.body.errors.map((e) => e.field).sort();
    const reg = await api(keyA).post('/register', { device_id: '', user_id: 42, label: '', extra: true });
    expect(reg.status).toBe(400);
    expect(reg.body.code).toBe('VALIDATION_FAILED');
    expect(fields(reg)).toEqual(['device_id', 'extra', 'label', 'user_id']);

    const missing = await verify(keyA, { otp: 123456 });
    expect(missing.status).toBe(400);
    expect(fields(missing)).toEqual(['device_id', 'otp']);
    const both = await verify(keyA, { device_id: 'a', user_id: 'b', otp: '12345' });
    expect(fields(both)).toEqual(['otp', 'user_id']);

    expect(
      (await api(keyA).get('?active=maybe&limit=500')).body.errors.map((e: { field: string }) => e.field).sort(),
    ).toEqual(['active', 'limit']);
    const badParam = await api(keyA).get('/has%20space');
    expect(badParam.status).toBe(400);
    expect(fields(badParam)).toEqual(['device_id']);
  });

  it('needs the right scope: a verify-only key cannot register or list', async () => {
    const res = await api(verifyOnlyKey).post('/register', { device_id: 'x', user_id: 'y' });
    expect(res.status).toBe(403);
    expect((await api(verifyOnlyKey).get('')).status).toBe(403);
    expect((await t.http().get('/api/v1/devices').set(admin.auth)).status).toBe(401);
  });

  it('audits changes, verifications and locks with the API key as actor, without keys or codes', async () => {
    const rows: Array<{ action: string; status: string; actor_type: string; actor_id: string; details: object }> =
      await t.dataSource.query(
        `SELECT action, status, actor_type, actor_id, details FROM audit_logs WHERE resource = 'device' OR action LIKE 'device.%'`,
      );
    const seen = new Set(rows.map((r) => `${r.action}:${r.status}`));
    for (const expected of [
      'device.register:success',
      'device.verify:success',
      'device.verify:failure',
      'device.lock:success',
      'device.deactivate:success',
      'device.reactivate:success',
      'device.rekey:success',
    ]) {
      expect(seen).toContain(expected);
    }
    const mine = rows.filter((r) => r.actor_id === keyAId);
    expect(mine.length).toBeGreaterThan(20);
    expect(mine.every((r) => r.actor_type === 'api_key')).toBe(true);
    const failure = rows.find((r) => r.action === 'device.verify' && r.status === 'failure')!;
    expect(failure.details).toHaveProperty('reason');
    expect(JSON.stringify(rows)).not.toMatch(/"(otp|code|derived_key|secret)"/);
  });

  it('writes one audit record per accepted code, with the request context, and none for a replay', async () => {
    clock.advance(STEP);
    const device = await register(keyA);
    const code = totp(device.derived_key, clock.now().getTime());
    const ok = await t
      .http()
      .post('/api/v1/devices/verify')
      .set('x-api-key', keyA)
      .set('x-request-id', 'verify-audit-1')
      .send({ device_id: device.device_id, otp: code })
      .expect(200);
    expect(ok.body.valid).toBe(true);
    await verify(keyA, { device_id: device.device_id, otp: code });
    const rows = await t.dataSource.query(
      `SELECT status, request_id, details FROM audit_logs WHERE action = 'device.verify' AND details->>'device_id' = $1 ORDER BY id`,
      [device.device_id],
    );
    expect(rows).toEqual([
      expect.objectContaining({
        status: 'success',
        request_id: 'verify-audit-1',
        details: expect.objectContaining({ drift: 0 }),
      }),
      expect.objectContaining({ status: 'failure', details: expect.objectContaining({ reason: 'replay' }) }),
    ]);
  });

  it('never writes a derived key or a code into the logs', async () => {
    clock.advance(STEP);
    const device = await register(keyA);
    const code = totp(device.derived_key, clock.now().getTime());
    await verify(keyA, { device_id: device.device_id, otp: code });
    const logs = logLines.join('');
    expect(logs).toContain('/api/v1/devices/verify');
    expect(logs).not.toContain(device.derived_key);
    expect(logs).not.toContain(device.secret);
    expect(logs).not.toContain(`"${code}"`);
  });
});
