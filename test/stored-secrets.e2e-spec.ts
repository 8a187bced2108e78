import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deriveKeyFromSecret, SecretCipher } from '../src/crypto/secret-cipher.js';
import { decodeBase32 } from '../src/otp/base32.js';
import { generateTotp } from '../src/otp/otp-engine.js';
import { FakeClock } from './support/fake-clock.js';
import {
  createClientUsageKey,
  createUser,
  issueApiKey,
  PASSWORD,
  stepUp,
  TestUser,
  uniqueName,
} from './support/identity.js';
import { scratchDatabase } from './support/scratch-database.js';
import { runToExit, startService } from './support/service-process.js';
import { bootApp, TestApp, testSecret } from './support/test-app.js';

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'otp-secrets-'));

describe('stored secrets and the key ring', () => {
  it(
    'refuses to start when no key of the ring decrypts the stored secrets (lost secrets.json), naming ENCRYPTION_KEYS and the data directory',
    { timeout: 300_000 },
    async () => {
      const db = await scratchDatabase();
      try {
        // Secrets stored under the run's key ring.
        const t = await bootApp({ DATABASE_URL: db.url });
        const user = await createUser(t);
        await t.http().post('/api/v1/otp/configs').set(user.auth).send({ name: 'GitHub' }).expect(201);
        await t.close();

        // The same database with ENCRYPTION_KEYS unset: a new development key is generated into a fresh DATA_DIR.
        const dataDir = tempDir();
        const refused = await runToExit({ DATABASE_URL: db.url, NODE_ENV: 'development', DATA_DIR: dataDir });
        expect(refused.status).toBe(1);
        expect(refused.stderr).toContain(
          'Failed to start: ENCRYPTION_KEYS: no key in the ring decrypts the secrets stored in otp_configs.secret: they were written with other keys.',
        );
        expect(refused.stderr).not.toContain('usage_keys.secret'); // a table without rows has nothing to check
        expect(refused.stderr).toContain(join(dataDir, 'secrets.json'));
        expect(refused.stderr).toContain(`DATA_DIR=${dataDir}`);
        expect(refused.stderr).not.toMatch(/\n\s+at /); // a message, not a stack

        // With the ring the secrets were written with, the same database starts.
        const same = await startService({
          DATABASE_URL: db.url,
          NODE_ENV: 'development',
          DATA_DIR: tempDir(),
          ENCRYPTION_KEYS: inject('encryptionKeys'),
        });
        expect(await same.stop('SIGTERM')).toBe(0);
      } finally {
        await db.drop();
      }
    },
  );

  describe('a single secret the ring cannot decrypt', () => {
    const clock = new FakeClock(new Date('2026-06-01T10:00:00Z'));
    let t: TestApp;
    let alice: TestUser;
    let admin: TestUser;
    let useKey: string;
    /** Same key id as the ring's, another key: what a lost or replaced ENCRYPTION_KEYS leaves behind. */
    const foreign = new SecretCipher(new Map([['k1', deriveKeyFromSecret(testSecret())]]), 'k1');

    beforeAll(async () => {
      t = await bootApp({}, { clock });
      alice = await createUser(t);
      admin = await createUser(t, { role: 'admin' });
      useKey = await issueApiKey(t, admin, 'acme', ['keys:use', 'keys:admin']);
    });
    afterAll(() => t.close());

    /** Replaces one row's ciphertext with one the ring cannot open; answers how to put it back. */
    async function makeUnreadable(table: string, column: string, id: string): Promise<() => Promise<void>> {
      const [row] = await t.dataSource.query(`SELECT "${column}" AS token FROM "${table}" WHERE id = $1`, [id]);
      await t.dataSource.query(`UPDATE "${table}" SET "${column}" = $2 WHERE id = $1`, [
        id,
        foreign.encrypt(Buffer.alloc(20, 7)),
      ]);
      // Put back, so the next suite's start-up check finds this run's rows readable.
      return async () => {
        await t.dataSource.query(`UPDATE "${table}" SET "${column}" = $2 WHERE id = $1`, [id, row.token]);
      };
    }

    const expectUnreadable = (res: { status: number; body: Record<string, unknown> }, route: string): void => {
      expect({ route, status: res.status, code: res.body.code }).toEqual({
        route,
        status: 409,
        code: 'SECRET_UNREADABLE',
      });
      expect(res.body.detail).toContain('ENCRYPTION_KEYS');
      expect(res.body.type).toBe('urn:problem-type:otp-service:secret-unreadable');
    };

    it('answers 409 SECRET_UNREADABLE on every route that reads that configuration, while the others work', async () => {
      const create = async (body: object): Promise<string> => {
        const res = await t
          .http()
          .post('/api/v1/otp/configs')
          .set(alice.auth)
          .send({ name: uniqueName('acct'), ...body });
        expect(res.status).toBe(201);
        return res.body.id;
      };
      const broken = await create({});
      const hotp = await create({ otp_type: 'hotp' });
      const fine = await create({});
      const restore = [await makeUnreadable('otp_configs', 'secret', broken)];
      restore.push(await makeUnreadable('otp_configs', 'secret', hotp));
      try {
        const http = () => t.http();
        expectUnreadable(
          await http().post('/api/v1/otp/generate').set(alice.auth).send({ config_id: broken }),
          'generate',
        );
        expectUnreadable(
          await http().post('/api/v1/otp/validate').set(alice.auth).send({ config_id: broken, otp_code: '123456' }),
          'validate',
        );
        expectUnreadable(await http().get(`/api/v1/otp/codes/${broken}`).set(alice.auth), 'live code');
        await stepUp(t, alice);
        expectUnreadable(await http().get(`/api/v1/otp/configs/${broken}/qr`).set(alice.auth), 'qr');
        expectUnreadable(
          await http()
            .post(`/api/v1/otp/configs/${hotp}/resync`)
            .set(alice.auth)
            .send({ otp_codes: ['123456', '654321'] }),
          'resync',
        );
        expectUnreadable(
          await http()
            .post('/api/v1/otp/bulk/generate')
            .set(alice.auth)
            .send({ config_ids: [fine, broken] }),
          'bulk generate',
        );
        expectUnreadable(await http().get('/api/v1/otp/codes').set(alice.auth), 'live codes');

        // A failed read is not a failed validation.
        const [{ failed_attempts }] = await t.dataSource.query(
          'SELECT failed_attempts FROM otp_configs WHERE id = $1',
          [broken],
        );
        expect(failed_attempts).toBe(0);
        expect((await http().post('/api/v1/otp/generate').set(alice.auth).send({ config_id: fine })).status).toBe(200);
      } finally {
        for (const put of restore) await put();
      }
      expect((await t.http().post('/api/v1/otp/generate').set(alice.auth).send({ config_id: broken })).status).toBe(
        200,
      );
    });

    it('answers 409 SECRET_UNREADABLE for a usage-limited key and gives the use back, audited', async () => {
      const name = uniqueName('key');
      // The client's own key: usage-limited keys are reached by their owner only.
      const created = { body: await createClientUsageKey(t, useKey, { name, max_uses: 5 }) };
      const use = () => t.http().post('/api/v1/keys/code').set('x-api-key', useKey).send({ key: name });
      const restore = await makeUnreadable('usage_keys', 'secret', created.body.id);
      try {
        expectUnreadable(await use(), 'keys/code');
        const info = await t.http().post('/api/v1/keys/info').set('x-api-key', useKey).send({ key: name });
        expect(info.body).toMatchObject({ usage_count: 0, remaining_uses: 5 });
        const events = await t.dataSource.query('SELECT outcome FROM usage_key_events WHERE key_id = $1', [
          created.body.id,
        ]);
        expect(events).toEqual([]);
        const audited = await t.dataSource.query(
          `SELECT status, details->>'code' AS code FROM audit_logs WHERE action = 'usage_key.use' AND resource_id = $1 ORDER BY id`,
          [created.body.id],
        );
        expect(audited).toEqual([
          { status: 'success', code: null },
          { status: 'failure', code: 'SECRET_UNREADABLE' },
        ]);
      } finally {
        await restore();
      }
      const again = await use();
      expect(again.status).toBe(200);
      expect(again.body.usage_info).toEqual({ max_uses: 5, usage_count: 1, remaining_uses: 4 });
    });

    it('answers 409 SECRET_UNREADABLE to a sign-in with a TOTP code when the MFA secret is unreadable', async () => {
      const user = await createUser(t);
      await stepUp(t, user);
      const enrol = await t.http().post('/api/v1/auth/mfa/enable').set(user.auth);
      const secret = decodeBase32(enrol.body.mfa_secret);
      const codeNow = () =>
        generateTotp({ secret, algorithm: 'sha1', digits: 6, period: 30, now: clock.now().getTime() }).code;
      expect((await t.http().post('/api/v1/auth/mfa/verify').set(user.auth).send({ code: codeNow() })).status).toBe(
        200,
      );
      clock.advance(30_000);
      const signIn = () =>
        t.http().post('/api/v1/auth/login').send({ username: user.username, password: PASSWORD, mfa_code: codeNow() });
      const restore = await makeUnreadable('users', 'mfa_secret', user.id);
      try {
        expectUnreadable(await signIn(), 'login');
      } finally {
        await restore();
      }
      expect((await signIn()).status).toBe(200);
    });
  });
});
