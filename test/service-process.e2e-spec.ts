import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { runToExit, startService } from './support/service-process.js';

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'otp-service-'));

describe('the service process (npm start)', () => {
  it('exits non-zero in production without a JWT secret, naming the variable', () => {
    const { status, stderr } = runToExit({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://127.0.0.1:1/none',
      ENCRYPTION_KEYS: 'k'.repeat(40),
      MASTER_SECRETS: 'm'.repeat(40),
      DATA_DIR: tempDir(),
    });
    expect(status).not.toBe(0);
    expect(stderr).toContain('JWT_SECRET');
  });

  it('starts on the embedded database with health and docs, and keeps its data across a restart', async () => {
    const dataDir = tempDir();
    const env = { DATA_DIR: dataDir, NODE_ENV: 'development', LOG_LEVEL: 'info' };

    const first = await startService(env);
    const health = await fetch(`${first.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', database: 'up' });
    expect((await fetch(`${first.url}/docs`)).status).toBe(200);
    expect(first.output()).toContain('applied migrations');
    expect(first.output()).toContain('using generated development values');
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await startService(env);
    expect((await fetch(`${second.url}/health`)).status).toBe(200);
    expect(second.output()).not.toContain('applied migrations');
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
  });
});
