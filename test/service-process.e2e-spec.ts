import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToExit, ServiceProcess, startService } from './support/service-process.js';

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'otp-service-'));

describe('the service process (npm start)', () => {
  it('exits non-zero in production without a JWT secret, naming the variable', async () => {
    const { status, stderr } = await runToExit({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://127.0.0.1:1/none',
      ENCRYPTION_KEYS: 'k'.repeat(40),
      MASTER_SECRETS: 'm'.repeat(40),
      DATA_DIR: tempDir(),
    });
    expect(status).not.toBe(0);
    expect(stderr).toContain('JWT_SECRET');
  });

  describe('on the embedded database, first start then restart', () => {
    const dataDir = tempDir();
    const env = { DATA_DIR: dataDir, NODE_ENV: 'development', LOG_LEVEL: 'info' };
    let first: ServiceProcess;

    beforeAll(async () => {
      first = await startService(env);
    });
    afterAll(async () => {
      if (first.child.exitCode === null) await first.stop('SIGKILL');
    });

    it('answers health and docs, having migrated and generated development secrets', async () => {
      const health = await fetch(`${first.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', database: 'up' });
      expect((await fetch(`${first.url}/docs`)).status).toBe(200);
      expect(first.output()).toContain('applied migrations');
      expect(first.output()).toContain('using generated development values');
    });

    it('ends its first start with plain lines on stderr: URL, docs, the first administrator, where the secrets are', async () => {
      const output = first.output();
      const at = first.stderr().indexOf('\nOTP service is ready\n');
      expect(at).toBeGreaterThanOrEqual(0);
      const notice = first.stderr().slice(at);
      expect(notice.split('\n').filter((line) => line.startsWith('{'))).toEqual([]); // not JSON
      expect(notice).toContain(`  URL:       ${first.url}\n`);
      expect(notice).toContain(`  API docs:  ${first.url}/docs\n`);
      expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/); // loopback unless HOST says otherwise
      expect(notice).toContain(`embedded (PGlite) in ${join(dataDir, 'pglite')}`);
      expect(notice).toContain('Development secrets (JWT_SECRET, ENCRYPTION_KEYS, MASTER_SECRETS)');
      expect(notice).toContain(join(dataDir, 'secrets.json'));
      const admin = /First administrator: username "admin", one-time password "([^"]+)"/.exec(notice);
      expect(admin, notice).not.toBeNull();
      expect(notice).toContain('it must be changed at the first sign-in');
      // Route mapping is debug detail, not among the info lines.
      expect(output).not.toMatch(/"context":"(RouterExplorer|RoutesResolver)"/);

      // The password shown is the administrator's, and it must be changed before anything else.
      const login = await fetch(`${first.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: admin![1] }),
      });
      expect(login.status).toBe(200);
      const session = (await login.json()) as { access_token: string; user: { must_change_password: boolean } };
      expect(session.user.must_change_password).toBe(true);
      const keys = await fetch(`${first.url}/api/v1/api-keys`, {
        headers: { authorization: `Bearer ${session.access_token}` },
      });
      expect(((await keys.json()) as { code: string }).code).toBe('PASSWORD_CHANGE_REQUIRED');
    });

    it(
      'keeps its data across a restart, without migrating again or showing the password again',
      { timeout: 300_000 },
      async () => {
        expect(await first.stop('SIGTERM')).toBe(0);
        const second = await startService(env);
        expect((await fetch(`${second.url}/health`)).status).toBe(200);
        expect(second.output()).not.toContain('applied migrations');
        expect(second.output()).not.toContain('First administrator');
        expect(await second.stop('SIGTERM')).toBe(0);

        // Both starts are recorded in the same on-disk database.
        const db = await PGlite.create(join(dataDir, 'pglite'));
        try {
          const { rows } = await db.query<{ count: number }>(
            `SELECT count(*)::int AS count FROM audit_logs WHERE action = 'service.start'`,
          );
          expect(rows[0].count).toBe(2);
        } finally {
          await db.close();
        }
      },
    );
  });
});
