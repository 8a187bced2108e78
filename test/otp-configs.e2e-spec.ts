import { spawnSync } from 'node:child_process';
import type { Response } from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from './support/fake-clock.js';
import { createUser, login, stepUp, TestUser, uniqueName } from './support/identity.js';
import { bootApp, TestApp } from './support/test-app.js';

const START = new Date('2026-03-01T12:00:00Z');
const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/** The independent implementation every code is checked against. */
function oathtool(args: string[]): string {
  const result = spawnSync('/usr/bin/oathtool', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`oathtool ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim();
}

const totpByOathtool = (secret: string, at: Date, algorithm = 'sha1', digits = 6, period = 30): string =>
  oathtool([
    `--totp=${algorithm.toUpperCase()}`,
    '-d',
    String(digits),
    '-s',
    `${period}s`,
    '-N',
    `@${seconds(at)}`,
    '-b',
    secret,
  ]);

const hotpByOathtool = (secret: string, counter: number, digits = 6): string =>
  oathtool(['--hotp', '-c', String(counter), '-d', String(digits), '-b', secret]);

describe('OTP configurations for people', () => {
  const clock = new FakeClock(START);
  let t: TestApp;
  let alice: TestUser;
  let mallory: TestUser;

  beforeAll(async () => {
    t = await bootApp({ LOG_LEVEL: 'silent' }, { clock });
    alice = await createUser(t);
    mallory = await createUser(t);
  });
  afterAll(() => t.close());
  // Tokens are issued at START; a test that moves the clock far signs in again.
  beforeEach(() => clock.set(START));

  const create = (user: TestUser, body: object) => t.http().post('/api/v1/otp/configs').set(user.auth).send(body);
  const generate = (user: TestUser, body: object) => t.http().post('/api/v1/otp/generate').set(user.auth).send(body);
  const validate = (user: TestUser, config_id: string, otp_code: string) =>
    t.http().post('/api/v1/otp/validate').set(user.auth).send({ config_id, otp_code });

  async function newConfig(body: object = {}, user = alice): Promise<{ id: string; secret: string }> {
    const res = await create(user, { name: uniqueName('acct'), ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { id: res.body.id, secret: res.body.secret };
  }

  it('creates a TOTP configuration, answers its secret once and keeps it encrypted', async () => {
    const res = await create(alice, { name: 'GitHub', issuer: 'GitHub', account_name: 'alice@example.com' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'GitHub',
      otp_type: 'totp',
      algorithm: 'sha1',
      digits: 6,
      interval: 30,
      counter: null,
      is_active: true,
    });
    expect(res.body.secret).toMatch(/^[A-Z2-7]{32}$/); // 20 random bytes
    expect(res.body.provisioning_uri).toBe(
      `otpauth://totp/GitHub:alice%40example.com?secret=${res.body.secret}&issuer=GitHub&algorithm=SHA1&digits=6&period=30`,
    );

    const got = await t.http().get(`/api/v1/otp/configs/${res.body.id}`).set(alice.auth).expect(200);
    expect(got.body).not.toHaveProperty('secret');
    const [row] = await t.dataSource.query('SELECT * FROM otp_configs WHERE id = $1', [res.body.id]);
    expect(row.secret).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(res.body.secret);

    const [audit] = await t.dataSource.query(
      `SELECT * FROM audit_logs WHERE action = 'otp_config.create' AND resource_id = $1`,
      [res.body.id],
    );
    expect(audit).toMatchObject({ actor_id: alice.id, status: 'success' });
    expect(JSON.stringify(audit)).not.toContain(res.body.secret);

    const again = await create(alice, { name: 'github' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('CONFIG_NAME_TAKEN');
  });

  it('sizes generated secrets to the algorithm: 20, 32 and 64 bytes', async () => {
    for (const [algorithm, chars] of [
      ['sha1', 32],
      ['sha256', 52],
      ['sha512', 103],
    ] as const) {
      const res = await create(alice, { name: uniqueName(algorithm), algorithm });
      expect(res.body.secret).toHaveLength(chars);
    }
  });

  describe('agrees with oathtool', () => {
    const algorithms = ['sha1', 'sha256', 'sha512'] as const;
    const cases = algorithms.flatMap((algorithm) =>
      [6, 7, 8].flatMap((digits) => [30, 60, 45].map((interval) => ({ algorithm, digits, interval }))),
    );

    it.each(cases)('$algorithm, $digits digits, $interval s', async ({ algorithm, digits, interval }) => {
      clock.set(START);
      const config = await newConfig({ algorithm, digits, interval });
      const generated = await generate(alice, { config_id: config.id }).expect(200);
      expect(generated.body.code).toBe(totpByOathtool(config.secret, START, algorithm, digits, interval));
      expect(generated.body).toMatchObject({ interval, otp_type: 'totp', generated_at: START.toISOString() });
      expect(generated.body.remaining_seconds).toBe(interval - (seconds(START) % interval));

      // A code oathtool computes one step later validates.
      const later = new Date(START.getTime() + interval * 1000);
      clock.set(later);
      const code = totpByOathtool(config.secret, later, algorithm, digits, interval);
      const res = await validate(alice, config.id, code).expect(200);
      expect(res.body).toMatchObject({ is_valid: true, config_id: config.id, drift: 0 });
    });

    it('HOTP codes, counter by counter', async () => {
      const config = await newConfig({ otp_type: 'hotp', counter: 5, digits: 8 });
      for (const counter of [5, 6, 7]) {
        const res = await generate(alice, { config_id: config.id, counter_increment: true }).expect(200);
        expect(res.body).toMatchObject({
          code: hotpByOathtool(config.secret, counter, 8),
          counter,
          next_counter: counter + 1,
        });
      }
    });

    it('an imported 80-bit secret (JBSWY3DPEHPK3PXP)', async () => {
      clock.set(START);
      const res = await t
        .http()
        .post('/api/v1/otp/configs/import')
        .set(alice.auth)
        .send({ accounts: [{ name: uniqueName('legacy'), secret: 'jbsw y3dp ehpk 3pxp', issuer: 'Legacy' }] })
        .expect(200);
      expect(res.body).toMatchObject({ imported: 1, duplicates: 0, invalid: 0 });
      const generated = await generate(alice, { config_id: res.body.results[0].config_id }).expect(200);
      expect(generated.body.code).toBe(totpByOathtool('JBSWY3DPEHPK3PXP', START));
    });
  });

  it('accepts a TOTP step once, T−1 but not T−2', async () => {
    clock.set(START);
    const config = await newConfig();
    const now = totpByOathtool(config.secret, START);
    expect((await validate(alice, config.id, now)).body.is_valid).toBe(true);
    const replay = await validate(alice, config.id, now).expect(200);
    expect(replay.body).toEqual({ is_valid: false, config_id: config.id, message: 'The code is not valid.' });

    const fresh = await newConfig();
    const previous = totpByOathtool(fresh.secret, new Date(START.getTime() - 30_000));
    const beforeThat = totpByOathtool(fresh.secret, new Date(START.getTime() - 60_000));
    expect((await validate(alice, fresh.id, beforeThat)).body.is_valid).toBe(false);
    const res = await validate(alice, fresh.id, previous).expect(200);
    expect(res.body).toMatchObject({ is_valid: true, drift: -1 });
  });

  it('gives exactly one success to 20 concurrent validations of one code', async () => {
    clock.set(START);
    const config = await newConfig();
    const code = totpByOathtool(config.secret, START);
    const answers = await Promise.all(Array.from({ length: 20 }, () => validate(alice, config.id, code)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(answers.filter((a) => a.body.is_valid)).toHaveLength(1);
    // The 19 replays are refused, but they are not guesses: the configuration stays unlocked.
    const [row] = await t.dataSource.query('SELECT failed_attempts, locked_until FROM otp_configs WHERE id = $1', [
      config.id,
    ]);
    expect(row).toEqual({ failed_attempts: 0, locked_until: null });
  });

  it('moves the HOTP counter past a match, refuses old codes and resynchronises', async () => {
    const config = await newConfig({ otp_type: 'hotp' });
    // The token is two presses ahead of the server (counters 0 and 1 never reached it).
    expect((await validate(alice, config.id, hotpByOathtool(config.secret, 2))).body).toMatchObject({
      is_valid: true,
      drift: 2,
    });
    expect((await t.http().get(`/api/v1/otp/configs/${config.id}`).set(alice.auth)).body.counter).toBe(3);
    expect((await validate(alice, config.id, hotpByOathtool(config.secret, 1))).body.is_valid).toBe(false);
    expect((await validate(alice, config.id, hotpByOathtool(config.secret, 2))).body.is_valid).toBe(false);

    // Far beyond the look-ahead (10): one code is not enough, two consecutive ones are.
    expect((await validate(alice, config.id, hotpByOathtool(config.secret, 40))).body.is_valid).toBe(false);
    const resync = (codes: string[]) =>
      t.http().post(`/api/v1/otp/configs/${config.id}/resync`).set(alice.auth).send({ otp_codes: codes });
    const refused = await resync([hotpByOathtool(config.secret, 40), hotpByOathtool(config.secret, 42)]);
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('RESYNC_FAILED');
    const res = await resync([hotpByOathtool(config.secret, 40), hotpByOathtool(config.secret, 41)]).expect(200);
    expect(res.body).toEqual({ resynchronized: true, config_id: config.id, next_counter: 42 });
    expect((await validate(alice, config.id, hotpByOathtool(config.secret, 42))).body.is_valid).toBe(true);

    const totp = await newConfig();
    const notHotp = await t
      .http()
      .post(`/api/v1/otp/configs/${totp.id}/resync`)
      .set(alice.auth)
      .send({
        otp_codes: ['123456', '654321'],
      });
    expect(notHotp.body.code).toBe('HOTP_ONLY');
  });

  it('hands out distinct HOTP counters to concurrent increments', async () => {
    const config = await newConfig({ otp_type: 'hotp' });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => generate(alice, { config_id: config.id, counter_increment: true })),
    );
    expect(answers.map((a) => a.body.counter).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const peek = await generate(alice, { config_id: config.id }).expect(200);
    expect(peek.body).toMatchObject({ counter: 10, code: hotpByOathtool(config.secret, 10) });
    expect(peek.body).not.toHaveProperty('next_counter');
  });

  it('locks validation after 10 consecutive failures, until the lock expires', async () => {
    clock.set(START);
    const config = await newConfig();
    const wrong = totpByOathtool(config.secret, new Date(START.getTime() + 600_000));
    // A success in between resets the count.
    for (let i = 0; i < 9; i++) expect((await validate(alice, config.id, wrong)).body.is_valid).toBe(false);
    expect((await validate(alice, config.id, totpByOathtool(config.secret, START))).body.is_valid).toBe(true);
    for (let i = 0; i < 10; i++) expect((await validate(alice, config.id, wrong)).status).toBe(200);

    const locked = await validate(alice, config.id, totpByOathtool(config.secret, START));
    expect(locked.status).toBe(423);
    expect(locked.body).toMatchObject({ code: 'VALIDATION_LOCKED', retry_after: 900 });
    const audits = await t.dataSource.query(
      `SELECT * FROM audit_logs WHERE action = 'otp_config.validation_lock' AND resource_id = $1`,
      [config.id],
    );
    expect(audits).toHaveLength(1);

    clock.advance(15 * 60_000);
    const later = { ...alice, ...(await login(t, alice.username, alice.password)) };
    const code = totpByOathtool(config.secret, clock.now());
    expect((await validate(later, config.id, code)).body.is_valid).toBe(true);
  });

  describe('the lock under concurrency and after a lapse', () => {
    const LIMIT = 10;
    const failures = async (id: string): Promise<number> =>
      (await t.dataSource.query('SELECT failed_attempts AS n FROM otp_configs WHERE id = $1', [id]))[0].n;
    /** A code that matches none of the steps accepted at `at`. */
    const wrongCode = (secret: string, at: Date): string => {
      const taken = new Set([-1, 0, 1].map((d) => totpByOathtool(secret, new Date(at.getTime() + d * 30_000))));
      return ['000000', '111111', '222222', '333333'].find((c) => !taken.has(c))!;
    };

    /** Every answer is a verdict (200) or a 423 VALIDATION_LOCKED with its Retry-After header. */
    function tally(answers: Response[]): { valid: number; wrong: number; locked: number } {
      for (const answer of answers) {
        expect([200, 423], JSON.stringify(answer.body)).toContain(answer.status);
        if (answer.status === 423) {
          expect(answer.headers['retry-after']).toMatch(/^[1-9]\d*$/);
          expect(answer.body).toMatchObject({
            code: 'VALIDATION_LOCKED',
            retry_after: Number(answer.headers['retry-after']),
            locked_until: expect.any(String),
          });
        }
      }
      return {
        valid: answers.filter((a) => a.status === 200 && a.body.is_valid).length,
        wrong: answers.filter((a) => a.status === 200 && !a.body.is_valid).length,
        locked: answers.filter((a) => a.status === 423).length,
      };
    }

    it(`answers at most ${LIMIT} of 200 concurrent wrong codes as wrong; the rest 423 with Retry-After`, async () => {
      const config = await newConfig();
      const bad = wrongCode(config.secret, START);
      const answers = await Promise.all(Array.from({ length: 200 }, () => validate(alice, config.id, bad)));
      // Printed before the checks, so a run on code without the rule shows its figure too.
      const evaluated = answers.filter((a) => a.status !== 423).length;
      process.stdout.write(
        `otp/validate: ${evaluated} of 200 concurrent wrong codes evaluated (limit ${LIMIT}), ${200 - evaluated} answered 423\n`,
      );
      const { wrong, locked } = tally(answers);
      expect(wrong).toBe(LIMIT);
      expect(locked).toBe(200 - LIMIT);
      expect(await failures(config.id)).toBe(LIMIT);
    });

    it('never accepts the right code hidden in a burst of wrong ones after the limit of wrong verdicts', async () => {
      for (const position of [15, 25]) {
        const config = await newConfig();
        const bad = wrongCode(config.secret, START);
        const good = totpByOathtool(config.secret, START);
        const answers = await Promise.all(
          Array.from({ length: 40 }, (_, i) => validate(alice, config.id, i === position ? good : bad)),
        );
        const right = answers[position]!;
        const others = tally(answers.filter((_, i) => i !== position));
        expect(others.valid).toBe(0);
        if (right.status === 200) {
          expect(right.body.is_valid).toBe(true);
          // The success reset the count: what the count holds now came after it.
          expect(others.wrong - (await failures(config.id))).toBeLessThan(LIMIT);
        } else {
          expect(right.status).toBe(423);
          expect(others.wrong).toBeLessThanOrEqual(LIMIT);
        }
      }
    });

    it('counts again from zero once the lock lapses, locks again (audited) at the limit, and a success resets', async () => {
      const config = await newConfig();
      const bad = wrongCode(config.secret, START);
      for (let i = 0; i < LIMIT; i++) expect((await validate(alice, config.id, bad)).body.is_valid).toBe(false);
      expect((await validate(alice, config.id, bad)).status).toBe(423);

      clock.advance(15 * 60_000 + 1_000);
      const later = { ...alice, ...(await login(t, alice.username, alice.password)) };
      const laterBad = wrongCode(config.secret, clock.now());
      const first = await validate(later, config.id, laterBad);
      expect(first.status).toBe(200);
      expect(first.body.is_valid).toBe(false);
      expect(await failures(config.id)).toBe(1);
      for (let i = 1; i < LIMIT; i++) expect((await validate(later, config.id, laterBad)).status).toBe(200);
      const relocked = await validate(later, config.id, totpByOathtool(config.secret, clock.now()));
      expect(relocked.status).toBe(423);
      expect(relocked.headers['retry-after']).toBe('900');
      const audits = await t.dataSource.query(
        `SELECT details FROM audit_logs WHERE action = 'otp_config.validation_lock' AND resource_id = $1`,
        [config.id],
      );
      expect(audits).toHaveLength(2);
      expect(audits[1].details).toMatchObject({ failures: LIMIT, minutes: 15 });

      clock.advance(15 * 60_000 + 1_000);
      const again = { ...alice, ...(await login(t, alice.username, alice.password)) };
      expect((await validate(again, config.id, wrongCode(config.secret, clock.now()))).status).toBe(200);
      const ok = await validate(again, config.id, totpByOathtool(config.secret, clock.now()));
      expect(ok.body.is_valid).toBe(true);
      expect(await failures(config.id)).toBe(0);
    });
  });

  it('refuses bad input with field errors', async () => {
    const cases: Array<[object, string]> = [
      [{ secret: 'NOT*BASE32' }, 'secret'],
      [{ secret: 'JBSWY3DP' }, 'secret'], // 40 bits
      [{ digits: 9 }, 'digits'],
      [{ digits: '6' }, 'digits'],
      [{ interval: 5 }, 'interval'],
      [{ interval: 301 }, 'interval'],
      [{ otp_type: 'hotp', interval: 30 }, 'interval'],
      [{ otp_type: 'totp', counter: 3 }, 'counter'],
      [{ counter: 3 }, 'counter'],
      [{ otp_type: 'hotp', counter: -1 }, 'counter'],
      [{ algorithm: 'md5' }, 'algorithm'],
      [{ otp_type: 'motp' }, 'otp_type'],
      [{ name: '' }, 'name'],
      [{ owner_id: mallory.id }, 'owner_id'],
    ];
    for (const [body, field] of cases) {
      const res = await create(alice, { name: uniqueName('bad'), ...body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    const badCode = await validate(alice, (await newConfig()).id, '12ab56');
    expect(badCode.status).toBe(400);
    expect(badCode.body.errors[0].field).toBe('otp_code');
  });

  it('hides one person’s configurations from another (404 everywhere)', async () => {
    const config = await newConfig();
    await stepUp(t, mallory);
    const as = (path: string) => t.http().get(path).set(mallory.auth);
    for (const res of [
      await as(`/api/v1/otp/configs/${config.id}`),
      await as(`/api/v1/otp/configs/${config.id}/qr`),
      await as(`/api/v1/otp/codes/${config.id}`),
      await t.http().patch(`/api/v1/otp/configs/${config.id}`).set(mallory.auth).send({ name: 'mine' }),
      await t.http().post(`/api/v1/otp/configs/${config.id}/secret`).set(mallory.auth).send({}),
      await t
        .http()
        .post(`/api/v1/otp/configs/${config.id}/resync`)
        .set(mallory.auth)
        .send({ otp_codes: ['123456', '123457'] }),
      await t.http().delete(`/api/v1/otp/configs/${config.id}`).set(mallory.auth),
      await generate(mallory, { config_id: config.id }),
      await validate(mallory, config.id, '123456'),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('CONFIG_NOT_FOUND');
    }
    const bulk = await t
      .http()
      .post('/api/v1/otp/bulk/generate')
      .set(mallory.auth)
      .send({ config_ids: [config.id] })
      .expect(200);
    expect(bulk.body.results).toEqual([{ config_id: config.id, error: 'CONFIG_NOT_FOUND' }]);
    const codes = await as('/api/v1/otp/codes').expect(200);
    expect(codes.body.items.map((i: { config_id: string }) => i.config_id)).not.toContain(config.id);
    const list = await as('/api/v1/otp/configs').expect(200);
    expect(list.body.items.map((i: { id: string }) => i.id)).not.toContain(config.id);
    // Still there, untouched, for its owner.
    expect((await t.http().get(`/api/v1/otp/configs/${config.id}`).set(alice.auth)).status).toBe(200);
  });

  it('lists, filters, updates, replaces the secret and deletes', async () => {
    const bob = await createUser(t);
    const totp = await newConfig({ name: 'Bank', issuer: 'Big Bank' }, bob);
    const hotp = await newConfig({ name: 'VPN', otp_type: 'hotp' }, bob);
    const list = (query: string) => t.http().get(`/api/v1/otp/configs${query}`).set(bob.auth).expect(200);
    expect((await list('')).body.total).toBe(2);
    expect((await list('?otp_type=hotp')).body.items.map((c: { id: string }) => c.id)).toEqual([hotp.id]);
    expect((await list('?search=big')).body.items.map((c: { id: string }) => c.id)).toEqual([totp.id]);
    expect((await list('?limit=1')).body).toMatchObject({ total: 2, limit: 1, offset: 0 });

    const updated = await t
      .http()
      .patch(`/api/v1/otp/configs/${hotp.id}`)
      .set(bob.auth)
      .send({ name: 'Office VPN', is_active: false })
      .expect(200);
    expect(updated.body).toMatchObject({ name: 'Office VPN', is_active: false });
    expect((await list('?is_active=false')).body.items.map((c: { id: string }) => c.id)).toEqual([hotp.id]);
    const onInactive = await generate(bob, { config_id: hotp.id });
    expect(onInactive.status).toBe(409);
    expect(onInactive.body.code).toBe('CONFIG_INACTIVE');
    const notAllowed = await t.http().patch(`/api/v1/otp/configs/${totp.id}`).set(bob.auth).send({ digits: 8 });
    expect(notAllowed.status).toBe(400);

    clock.set(START);
    await stepUp(t, bob);
    const replaced = await t.http().post(`/api/v1/otp/configs/${totp.id}/secret`).set(bob.auth).send({}).expect(200);
    expect(replaced.body.secret).not.toBe(totp.secret);
    const code = await generate(bob, { config_id: totp.id }).expect(200);
    expect(code.body.code).toBe(totpByOathtool(replaced.body.secret, START));

    await t.http().delete(`/api/v1/otp/configs/${totp.id}`).set(bob.auth).expect(204);
    expect((await t.http().get(`/api/v1/otp/configs/${totp.id}`).set(bob.auth)).status).toBe(404);
    const actions = await t.dataSource.query(
      `SELECT action FROM audit_logs WHERE resource = 'otp_config' AND actor_id = $1 ORDER BY id`,
      [bob.id],
    );
    expect(actions.map((a: { action: string }) => a.action)).toEqual([
      'otp_config.create',
      'otp_config.create',
      'otp_config.update',
      'otp_config.secret_replace',
      'otp_config.delete',
    ]);
  });

  it('answers enrolment material as PNG or SVG, and audits the reveal', async () => {
    const config = await newConfig({ issuer: 'Example' });
    await stepUp(t, alice);
    const png = await t.http().get(`/api/v1/otp/configs/${config.id}/qr`).set(alice.auth).expect(200);
    expect(png.body.format).toBe('png');
    expect(png.body.qr_code).toMatch(/^data:image\/png;base64,/);
    expect(png.body.provisioning_uri).toContain(`secret=${config.secret}`);
    expect(png.headers['cache-control']).toBe('no-store');
    const svg = await t.http().get(`/api/v1/otp/configs/${config.id}/qr?format=svg`).set(alice.auth).expect(200);
    expect(svg.body.qr_code).toMatch(/^<svg/);
    const image = await t
      .http()
      .get(`/api/v1/otp/configs/${config.id}/qr`)
      .set(alice.auth)
      .set('accept', 'image/svg+xml')
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => done(null, text));
      })
      .expect(200);
    expect(image.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(image.body).toMatch(/^<svg/);
    const reveals = await t.dataSource.query(
      `SELECT * FROM audit_logs WHERE action = 'otp_config.qr_reveal' AND resource_id = $1`,
      [config.id],
    );
    expect(reveals).toHaveLength(3);
  });

  it('imports otpauth URIs item by item: duplicates and invalid ones reported, the rest kept whole', async () => {
    const carol = await createUser(t);
    await newConfig({ name: 'Existing' }, carol);
    const res = await t
      .http()
      .post('/api/v1/otp/configs/import')
      .set(carol.auth)
      .send({
        accounts: [{ name: 'existing', secret: 'JBSWY3DPEHPK3PXP' }],
        uris: [
          'otpauth://totp/ACME%20Co:carol@example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co&algorithm=SHA256&digits=8&period=60',
          'otpauth://hotp/Lab:carol?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Lab&counter=7',
          'otpauth://totp/ACME%20Co:carol@example.com?secret=GEZDGNBVGY3TQOJQ&issuer=ACME%20Co',
          'otpauth://totp/Broken?secret=***',
          'https://example.com/not-otpauth',
        ],
      })
      .expect(200);
    expect(res.body).toMatchObject({ imported: 2, duplicates: 2, invalid: 2 });
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual([
      'duplicate',
      'imported',
      'imported',
      'duplicate',
      'invalid',
      'invalid',
    ]);
    expect(res.body.results[4].message).toMatch(/secret/);
    const configs = await t.http().get('/api/v1/otp/configs').set(carol.auth).expect(200);
    const acme = configs.body.items.find((c: { name: string }) => c.name === 'ACME Co:carol@example.com');
    expect(acme).toMatchObject({
      algorithm: 'sha256',
      digits: 8,
      interval: 60,
      issuer: 'ACME Co',
      account_name: 'carol@example.com',
    });
    const lab = configs.body.items.find((c: { name: string }) => c.name === 'Lab:carol');
    expect(lab).toMatchObject({ otp_type: 'hotp', counter: 7 });
    expect(configs.body.total).toBe(3);

    const empty = await t.http().post('/api/v1/otp/configs/import').set(carol.auth).send({});
    expect(empty.status).toBe(400);
  });

  it('shows live codes, bulk codes, events and statistics that match what happened', async () => {
    clock.set(START);
    const dave = await createUser(t);
    const a = await newConfig({ name: 'A' }, dave);
    const b = await newConfig({ name: 'B', interval: 60, digits: 8 }, dave);
    const h = await newConfig({ name: 'H', otp_type: 'hotp' }, dave);
    const off = await newConfig({ name: 'Off', is_active: false }, dave);

    const live = await t.http().get('/api/v1/otp/codes').set(dave.auth).expect(200); // 2 generations
    expect(live.body.items).toEqual([
      expect.objectContaining({ config_id: a.id, code: totpByOathtool(a.secret, START), remaining_seconds: 30 }),
      expect.objectContaining({ config_id: b.id, code: totpByOathtool(b.secret, START, 'sha1', 8, 60), interval: 60 }),
    ]);
    const one = await t.http().get(`/api/v1/otp/codes/${a.id}`).set(dave.auth).expect(200); // 1
    expect(one.body.code).toBe(totpByOathtool(a.secret, START));
    expect((await t.http().get(`/api/v1/otp/codes/${h.id}`).set(dave.auth)).body.code).toBe('TOTP_ONLY');

    const missing = '00000000-0000-4000-8000-000000000000';
    const bulk = await t
      .http()
      .post('/api/v1/otp/bulk/generate')
      .set(dave.auth)
      .send({ config_ids: [a.id, h.id, off.id, missing] })
      .expect(200); // 2
    expect(bulk.body.results).toEqual([
      { config_id: a.id, code: totpByOathtool(a.secret, START), remaining_seconds: 30 },
      { config_id: h.id, code: hotpByOathtool(h.secret, 0), counter: 0 },
      { config_id: off.id, error: 'CONFIG_INACTIVE' },
      { config_id: missing, error: 'CONFIG_NOT_FOUND' },
    ]);
    const tooMany = Array.from({ length: 101 }, () => crypto.randomUUID());
    expect((await t.http().post('/api/v1/otp/bulk/generate').set(dave.auth).send({ config_ids: tooMany })).status).toBe(
      400,
    );

    expect((await validate(dave, a.id, totpByOathtool(a.secret, START))).body.is_valid).toBe(true);
    expect((await validate(dave, a.id, totpByOathtool(a.secret, START))).body.is_valid).toBe(false);
    expect((await validate(dave, b.id, '00000000')).body.is_valid).toBe(false);

    const stats = await t.http().get('/api/v1/otp/stats').set(dave.auth).expect(200);
    expect(stats.body).toEqual({
      total_configs: 4,
      active_configs: 3,
      total_generations: 5,
      total_validations: 3,
      successful_validations: 1,
    });
    const enhanced = await t.http().get('/api/v1/otp/stats/enhanced').set(dave.auth).expect(200);
    expect(enhanced.body.success_rate).toBeCloseTo(1 / 3);
    expect(enhanced.body.last_7_days).toHaveLength(7);
    expect(enhanced.body.last_7_days[6]).toEqual({
      date: '2026-03-01',
      generations: 5,
      validations: 3,
      successful_validations: 1,
    });
    expect(enhanced.body.last_7_days[0]).toMatchObject({ date: '2026-02-23', generations: 0 });

    const recent = await t.http().get('/api/v1/otp/events/recent?limit=3').set(dave.auth).expect(200);
    expect(recent.body).toHaveLength(3);
    expect(recent.body[0]).toMatchObject({ config_id: b.id, config_name: 'B', event_type: 'validate_failure' });
    expect(JSON.stringify(recent.body)).not.toContain(totpByOathtool(a.secret, START));
    expect((await t.http().get('/api/v1/otp/events/recent?limit=101').set(dave.auth)).status).toBe(400);
    const [{ count }] = await t.dataSource.query(`SELECT count(*)::int AS count FROM otp_events WHERE user_id = $1`, [
      dave.id,
    ]);
    expect(count).toBe(8);
  });

  it('needs a signed-in user', async () => {
    expect((await t.http().get('/api/v1/otp/configs')).status).toBe(401);
    expect((await t.http().post('/api/v1/otp/validate').send({})).status).toBe(401);
  });
});

describe('OTP rate limits (per user)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootApp({ LOG_LEVEL: 'silent', RATE_LIMIT_MULTIPLIER: '1' });
  });
  afterAll(() => t.close());

  it('allows 10 creations an hour, 30 generations and 20 validations a minute', async () => {
    const erin = await createUser(t);
    const create = (i: number) =>
      t
        .http()
        .post('/api/v1/otp/configs')
        .set(erin.auth)
        .send({ name: `c${i}` });
    for (let i = 0; i < 10; i++) expect((await create(i)).status).toBe(201);
    const refused = await create(10);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

    const { body: page } = await t.http().get('/api/v1/otp/configs').set(erin.auth).expect(200);
    const config_id = page.items[0].id;
    for (let i = 0; i < 30; i++) {
      await t.http().post('/api/v1/otp/generate').set(erin.auth).send({ config_id }).expect(200);
    }
    expect((await t.http().post('/api/v1/otp/generate').set(erin.auth).send({ config_id })).status).toBe(429);

    const validate = () => t.http().post('/api/v1/otp/validate').set(erin.auth).send({ config_id, otp_code: '000000' });
    for (let i = 0; i < 10; i++) expect((await validate()).status).toBe(200);
    // The configuration locks at 10 failures; the limit still counts every request.
    for (let i = 0; i < 10; i++) expect((await validate()).status).toBe(423);
    expect((await validate()).status).toBe(429);
  });
});
