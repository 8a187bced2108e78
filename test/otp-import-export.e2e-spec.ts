import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { PNG } from 'pngjs';
import { toDataURL } from 'qrcode';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeBase32 } from '#src/otp/base32.js';
import { FakeClock } from './support/fake-clock.js';
import { createUser, stepUp, TestUser } from './support/identity.js';
import {
  ALGORITHM,
  DIGIT_COUNT,
  encodeMigrationPayload,
  migrationUri,
  OTP_TYPE,
  type MigrationAccount,
} from './support/migration-payload.js';
import { bootApp, TestApp } from './support/test-app.js';

const START = new Date('2026-03-01T12:00:00Z');
const EPOCH = Math.floor(START.getTime() / 1000);
const PASSPHRASE = 'correct horse battery staple';

/** The independent implementation every code is checked against. */
function oathtool(args: string[]): string {
  const result = spawnSync('/usr/bin/oathtool', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`oathtool ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim();
}

interface Expected {
  name: string;
  secret: string;
  algorithm: string;
  digits: number;
  interval?: number;
  counter?: number;
}

/** The code oathtool computes for an account at START (TOTP) or at its counter (HOTP). */
const codeByOathtool = (e: Expected): string =>
  e.counter !== undefined
    ? oathtool(['--hotp', '-c', String(e.counter), '-d', String(e.digits), '-b', e.secret])
    : oathtool([
        `--totp=${e.algorithm}`,
        '-d',
        String(e.digits),
        '-s',
        `${e.interval}s`,
        '-N',
        `@${EPOCH}`,
        '-b',
        e.secret,
      ]);

const secretBytes = (bytes = 20): Buffer => randomBytes(bytes);

describe('Import and export of OTP configurations', () => {
  const clock = new FakeClock(START);
  let t: TestApp;
  const logLines: string[] = [];

  beforeAll(async () => {
    const logs = new PassThrough();
    logs.on('data', (chunk: Buffer) => logLines.push(chunk.toString()));
    t = await bootApp({ LOG_LEVEL: 'debug' }, { clock, logDestination: logs });
  });
  afterAll(() => t.close());
  beforeEach(() => clock.set(START));

  const importAs = (user: TestUser, body: object) =>
    t.http().post('/api/v1/otp/configs/import').set(user.auth).send(body);
  const exportAs = (user: TestUser, body: object) =>
    t.http().post('/api/v1/otp/configs/export').set(user.auth).send(body);
  const rows = async (user: TestUser): Promise<number> =>
    Number((await t.dataSource.query('SELECT count(*) AS n FROM otp_configs WHERE owner_id = $1', [user.id]))[0].n);

  /** Each expected account exists for `user` with its parameters and answers oathtool's code at START. */
  async function expectCodes(user: TestUser, expected: Expected[]): Promise<void> {
    const list = await t.http().get('/api/v1/otp/configs?limit=100').set(user.auth).expect(200);
    expect(list.body.total).toBe(expected.length);
    for (const e of expected) {
      const config = list.body.items.find((c: { name: string }) => c.name === e.name);
      expect(config, e.name).toMatchObject({
        algorithm: e.algorithm,
        digits: e.digits,
        otp_type: e.counter === undefined ? 'totp' : 'hotp',
        interval: e.interval ?? null,
        counter: e.counter ?? null,
      });
      const generated = await t
        .http()
        .post('/api/v1/otp/generate')
        .set(user.auth)
        .send({ config_id: config.id })
        .expect(200);
      expect(generated.body.code, e.name).toBe(codeByOathtool(e));
    }
  }

  describe('Google Authenticator export', () => {
    const accounts: (MigrationAccount & { expected?: Expected })[] = [];
    const sha1 = secretBytes();
    const sha256 = secretBytes(32);
    const hotp = secretBytes();
    accounts.push(
      {
        secret: sha1,
        name: 'ACME:alice@example.com',
        issuer: 'ACME',
        algorithm: ALGORITHM.sha1,
        digits: DIGIT_COUNT.six,
        type: OTP_TYPE.totp,
        expected: {
          name: 'ACME:alice@example.com',
          secret: encodeBase32(sha1),
          algorithm: 'sha1',
          digits: 6,
          interval: 30,
        },
      },
      {
        secret: sha256,
        name: 'alice',
        issuer: 'Bank',
        algorithm: ALGORITHM.sha256,
        digits: DIGIT_COUNT.eight,
        type: OTP_TYPE.totp,
        expected: { name: 'Bank:alice', secret: encodeBase32(sha256), algorithm: 'sha256', digits: 8, interval: 30 },
      },
      {
        secret: hotp,
        name: 'lab-token',
        algorithm: ALGORITHM.unspecified,
        digits: DIGIT_COUNT.six,
        type: OTP_TYPE.hotp,
        counter: 7,
        expected: { name: 'lab-token', secret: encodeBase32(hotp), algorithm: 'sha1', digits: 6, counter: 7 },
      },
      { secret: secretBytes(), name: 'old', algorithm: ALGORITHM.md5, digits: DIGIT_COUNT.six, type: OTP_TYPE.totp },
    );
    const uri = migrationUri(encodeMigrationPayload(accounts));
    const expected = accounts.flatMap((a) => (a.expected ? [a.expected] : []));

    it('imports the QR image of an export: a dry run writes nothing, then every account answers oathtool’s codes', async () => {
      const alice = await createUser(t);
      const image = await toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2 });

      const dry = await importAs(alice, { format: 'google', image, dry_run: true }).expect(200);
      expect(dry.body).toMatchObject({ dry_run: true, imported: 3, duplicates: 0, invalid: 1 });
      expect(dry.body.results.map((r: { status: string }) => r.status)).toEqual([
        'imported',
        'imported',
        'imported',
        'invalid',
      ]);
      expect(dry.body.results[3]).toMatchObject({ source: 'google', index: 3, message: expect.stringMatching(/MD5/) });
      expect(dry.body.results[0]).not.toHaveProperty('config_id');
      expect(await rows(alice)).toBe(0);
      const audited = await t.dataSource.query(
        `SELECT count(*) AS n FROM audit_logs WHERE actor_id = $1 AND action = 'otp_config.import'`,
        [alice.id],
      );
      expect(Number(audited[0].n)).toBe(0);

      const real = await importAs(alice, { format: 'google', image }).expect(200);
      expect(real.body).toMatchObject({ dry_run: false, imported: 3, invalid: 1 });
      expect(real.body.results.slice(0, 3).map((r: { name: string }) => r.name)).toEqual(expected.map((e) => e.name));
      expect(real.body.results[0].config_id).toMatch(/^[0-9a-f-]{36}$/);
      await expectCodes(alice, expected);

      // The same export again: every account is now a duplicate, and nothing more is written.
      const again = await importAs(alice, { format: 'google', content: uri }).expect(200);
      expect(again.body).toMatchObject({ imported: 0, duplicates: 3, invalid: 1 });
      expect(await rows(alice)).toBe(3);
    });

    it('imports the otpauth-migration URI text, several batches one per line', async () => {
      const bob = await createUser(t);
      const first = migrationUri(encodeMigrationPayload(accounts.slice(0, 2), { size: 2, index: 0, id: 9 }));
      const second = migrationUri(encodeMigrationPayload(accounts.slice(2, 3), { size: 2, index: 1, id: 9 }));
      const res = await importAs(bob, { format: 'google', content: `${first}\n\n${second}\n` }).expect(200);
      expect(res.body).toMatchObject({ imported: 3, invalid: 0 });
      await expectCodes(bob, expected);
    });

    it('refuses a damaged export whole with IMPORT_FORMAT_INVALID and an image without a QR code with QR_UNREADABLE', async () => {
      const carol = await createUser(t);
      const payload = encodeMigrationPayload(accounts.slice(0, 1));
      const truncated = migrationUri(payload.subarray(0, payload.length - 25));
      for (const content of [
        truncated,
        'otpauth-migration://offline?data=%%%',
        'otpauth-migration://offline?data=not*base64',
        'otpauth-migration://offline?version=1',
        'https://example.com/?data=AAAA',
      ]) {
        const res = await importAs(carol, { format: 'google', content });
        expect(res.status, content).toBe(400);
        expect(res.body.code, content).toBe('IMPORT_FORMAT_INVALID');
      }
      const blank = new PNG({ width: 64, height: 64 });
      blank.data.fill(255);
      for (const image of [
        PNG.sync.write(blank).toString('base64'),
        Buffer.from('GIF89a not a png').toString('base64'),
        'not base64!',
      ]) {
        const res = await importAs(carol, { format: 'google', image });
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('QR_UNREADABLE');
      }
      expect(await rows(carol)).toBe(0);
    });
  });

  it('imports an Aegis plain export, refuses Steam entries per item and an encrypted vault whole', async () => {
    const dave = await createUser(t);
    const totp = encodeBase32(secretBytes(64));
    const hotp = encodeBase32(secretBytes());
    const vault = {
      version: 1,
      header: { slots: null, params: null },
      db: {
        version: 3,
        entries: [
          {
            type: 'totp',
            uuid: '8b2e8f0e-1111-4c5e-9d3a-000000000001',
            name: 'dave@example.com',
            issuer: 'Mail',
            note: '',
            icon: null,
            info: { secret: totp, algo: 'SHA512', digits: 8, period: 60 },
          },
          { type: 'hotp', name: 'vpn', issuer: '', info: { secret: hotp, algo: 'SHA1', digits: 6, counter: 12 } },
          {
            type: 'steam',
            name: 'gamer',
            issuer: 'Steam',
            info: { secret: hotp, algo: 'SHA1', digits: 5, period: 30 },
          },
          { type: 'totp', name: 'weird', issuer: 'X', info: { secret: hotp, algo: 'MD5', digits: 6, period: 30 } },
        ],
      },
    };
    const res = await importAs(dave, { format: 'aegis', content: JSON.stringify(vault) }).expect(200);
    expect(res.body).toMatchObject({ imported: 2, invalid: 2 });
    expect(res.body.results[2].message).toMatch(/steam/);
    expect(res.body.results[3].message).toMatch(/MD5/);
    await expectCodes(dave, [
      { name: 'Mail:dave@example.com', secret: totp, algorithm: 'sha512', digits: 8, interval: 60 },
      { name: 'vpn', secret: hotp, algorithm: 'sha1', digits: 6, counter: 12 },
    ]);

    const encrypted = {
      version: 1,
      header: {
        slots: [
          { type: 1, uuid: 'x', key: 'ab', key_params: { nonce: 'cd', tag: 'ef' }, n: 32768, r: 8, p: 1, salt: '01' },
        ],
        params: { nonce: '00', tag: '11' },
      },
      db: 'c2VjcmV0IHZhdWx0',
    };
    const refused = await importAs(dave, { format: 'aegis', content: JSON.stringify(encrypted) });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('ENCRYPTED_VAULT_UNSUPPORTED');
    expect(refused.body.detail).toMatch(/encrypted vault not supported/i);
    for (const content of ['{not json', '[]', JSON.stringify({ version: 1, header: {}, db: { entries: 'x' } })]) {
      const bad = await importAs(dave, { format: 'aegis', content });
      expect(bad.status, content).toBe(400);
      expect(bad.body.code).toBe('IMPORT_FORMAT_INVALID');
    }
    expect(await rows(dave)).toBe(2);
  });

  it('imports a 2FAuth export, reporting a repeated account as a duplicate', async () => {
    const erin = await createUser(t);
    const a = encodeBase32(secretBytes(32));
    const h = encodeBase32(secretBytes());
    const file = {
      app: '2fauth_v5.4.1',
      schema: 1,
      datetime: '2026-02-27T10:00:00Z',
      data: [
        {
          otp_type: 'totp',
          account: 'erin',
          service: 'Forge',
          secret: a,
          algorithm: 'sha256',
          digits: 6,
          period: 30,
          counter: null,
        },
        {
          otp_type: 'hotp',
          account: 'erin',
          service: 'Door',
          secret: h,
          algorithm: 'sha1',
          digits: 8,
          period: null,
          counter: 3,
        },
        { otp_type: 'totp', account: 'ERIN', service: 'forge', secret: h, algorithm: 'sha1', digits: 6, period: 30 },
        { otp_type: 'steamtotp', account: 'erin', service: 'Steam', secret: h, algorithm: 'sha1', digits: 5 },
      ],
    };
    const res = await importAs(erin, { format: '2fauth', content: JSON.stringify(file) }).expect(200);
    expect(res.body).toMatchObject({ imported: 2, duplicates: 1, invalid: 1 });
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual([
      'imported',
      'imported',
      'duplicate',
      'invalid',
    ]);
    await expectCodes(erin, [
      { name: 'Forge:erin', secret: a, algorithm: 'sha256', digits: 6, interval: 30 },
      { name: 'Door:erin', secret: h, algorithm: 'sha1', digits: 8, counter: 3 },
    ]);
    const wrongApp = await importAs(erin, { format: '2fauth', content: JSON.stringify({ app: 'other', data: [] }) });
    expect(wrongApp.body.code).toBe('IMPORT_FORMAT_INVALID');
  });

  it('imports a list of otpauth URIs one per line, and refuses more than 100 accounts', async () => {
    const frank = await createUser(t);
    const s = encodeBase32(secretBytes());
    const content = [
      '# exported from somewhere',
      `otpauth://totp/Shop:frank?secret=${s}&issuer=Shop&algorithm=SHA256&digits=8&period=60`,
      '',
      'otpauth://totp/Broken?secret=***',
    ].join('\r\n');
    const res = await importAs(frank, { format: 'otpauth', content }).expect(200);
    expect(res.body).toMatchObject({ imported: 1, invalid: 1 });
    expect(res.body.results[1]).toMatchObject({ source: 'otpauth', index: 1, status: 'invalid' });
    await expectCodes(frank, [{ name: 'Shop:frank', secret: s, algorithm: 'sha256', digits: 8, interval: 60 }]);

    const many = Array.from({ length: 101 }, (_, i) => `otpauth://totp/n${i}?secret=${s}`).join('\n');
    const tooMany = await importAs(frank, { format: 'otpauth', content: many });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.code).toBe('IMPORT_TOO_LARGE');
    expect(await rows(frank)).toBe(1);
  });

  it('refuses contradictory or unknown import fields with VALIDATION_FAILED', async () => {
    const gina = await createUser(t);
    for (const body of [
      { content: 'otpauth://totp/a?secret=JBSWY3DPEHPK3PXP' },
      { format: 'aegis', image: 'AAAA' },
      { format: 'google' },
      { format: 'google', content: 'x', image: 'AAAA' },
      { format: 'otpauth', content: 'x', passphrase: 'p' },
      { format: 'encrypted', passphrase: 'p' },
      { format: 'pdf', content: 'x' },
      { format: 'otpauth', content: 'x', extra: true },
    ]) {
      const res = await importAs(gina, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code, JSON.stringify(body)).toBe('VALIDATION_FAILED');
    }
  });

  it('round trip: exports as otpauth URIs and as an encrypted backup, both import into another person with the same codes', async () => {
    const owner = await createUser(t);
    const specs = [
      { name: 'Sha1', algorithm: 'sha1', digits: 6, interval: 30 },
      { name: 'Sha256', algorithm: 'sha256', digits: 8, interval: 60 },
      { name: 'Sha512', algorithm: 'sha512', digits: 8, interval: 30 },
      { name: 'Sixty', algorithm: 'sha1', digits: 6, interval: 60, issuer: 'Corp', account_name: 'o@corp.example' },
      { name: 'Counter', algorithm: 'sha1', digits: 6, otp_type: 'hotp', counter: 41 },
    ];
    const expected: Expected[] = [];
    for (const spec of specs) {
      const created = await t.http().post('/api/v1/otp/configs').set(owner.auth).send(spec).expect(201);
      expected.push({
        name: spec.name,
        secret: created.body.secret,
        algorithm: spec.algorithm,
        digits: spec.digits,
        ...(spec.otp_type === 'hotp' ? { counter: spec.counter } : { interval: spec.interval }),
      });
    }

    const refused = await exportAs(owner, { format: 'otpauth' });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('STEP_UP_REQUIRED');
    await stepUp(t, owner);

    const short = await exportAs(owner, { format: 'encrypted', passphrase: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.code).toBe('VALIDATION_FAILED');
    expect((await exportAs(owner, { format: 'encrypted' })).body.code).toBe('VALIDATION_FAILED');

    // Only the owner's five: the other people of this suite have accounts too.
    const list = await exportAs(owner, { format: 'otpauth' }).expect(200);
    expect(list.body).toMatchObject({ format: 'otpauth', count: 5 });
    expect(list.body.uris).toHaveLength(5);
    expect(list.body.uris[4]).toMatch(
      /^otpauth:\/\/hotp\/Counter\?secret=[A-Z2-7]+&algorithm=SHA1&digits=6&counter=41$/,
    );

    const encrypted = await exportAs(owner, { format: 'encrypted', passphrase: PASSPHRASE }).expect(200);
    const backup = encrypted.body.backup;
    expect(encrypted.body.count).toBe(5);
    expect(backup).toMatchObject({
      format: 'otp-service-backup',
      version: 1,
      created_at: START.toISOString(),
      kdf: { name: 'scrypt', N: 32768, r: 8, p: 1 },
      cipher: { name: 'aes-256-gcm' },
    });
    const wire = JSON.stringify(backup);
    for (const e of expected) expect(wire).not.toContain(e.secret);

    const audits = await t.dataSource.query(
      `SELECT details FROM audit_logs WHERE actor_id = $1 AND action = 'otp_config.export' ORDER BY created_at`,
      [owner.id],
    );
    expect(audits.map((a: { details: object }) => a.details)).toEqual([
      { format: 'otpauth', count: 5 },
      { format: 'encrypted', count: 5 },
    ]);

    // From the URI list: the HOTP URI carries no issuer, so every name comes back as it was.
    const viaUris = await createUser(t);
    const fromList = await importAs(viaUris, { format: 'otpauth', content: list.body.uris.join('\n') }).expect(200);
    expect(fromList.body.imported).toBe(5);
    await expectCodes(viaUris, [
      ...expected.filter((e) => e.name !== 'Sixty'),
      { ...expected.find((e) => e.name === 'Sixty')!, name: 'Corp:o@corp.example' },
    ]);

    const viaBackup = await createUser(t);
    const wrong = await importAs(viaBackup, { format: 'encrypted', backup, passphrase: 'not the passphrase' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.code).toBe('BACKUP_DECRYPTION_FAILED');
    const flipped = Buffer.from(backup.data, 'base64');
    flipped[0] = flipped[0]! ^ 1;
    const altered = await importAs(viaBackup, {
      format: 'encrypted',
      backup: { ...backup, data: flipped.toString('base64') },
      passphrase: PASSPHRASE,
    });
    expect(altered.body.code).toBe('BACKUP_DECRYPTION_FAILED');
    const costly = await importAs(viaBackup, {
      format: 'encrypted',
      backup: { ...backup, kdf: { ...backup.kdf, N: 2 ** 20 } },
      passphrase: PASSPHRASE,
    });
    expect(costly.status).toBe(400);
    expect(costly.body.code).toBe('IMPORT_FORMAT_INVALID');
    expect(await rows(viaBackup)).toBe(0);

    const dry = await importAs(viaBackup, { format: 'encrypted', backup, passphrase: PASSPHRASE, dry_run: true });
    expect(dry.body, JSON.stringify(dry.body)).toMatchObject({ dry_run: true, imported: 5 });
    expect(await rows(viaBackup)).toBe(0);
    const restored = await importAs(viaBackup, { format: 'encrypted', backup, passphrase: PASSPHRASE }).expect(200);
    expect(restored.body).toMatchObject({ imported: 5, duplicates: 0, invalid: 0 });
    await expectCodes(viaBackup, expected);
    const sixty = await t.http().get('/api/v1/otp/configs?search=Sixty').set(viaBackup.auth).expect(200);
    expect(sixty.body.items[0]).toMatchObject({ issuer: 'Corp', account_name: 'o@corp.example' });

    // Every request above was logged (at debug), none with a secret, a URI or the passphrase.
    const logged = logLines.join('');
    expect(logged).toContain('/api/v1/otp/configs/export');
    for (const e of expected) expect(logged).not.toContain(e.secret);
    expect(logged).not.toContain(PASSPHRASE);
    expect(logged).not.toContain(backup.data);
  });
});
