import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { bootApp, TestApp } from './support/test-app.js';

describe('health and service info', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await bootApp();
  });
  afterAll(() => t.close());

  it('GET /health answers 200 with database up, version and uptime', async () => {
    const res = await t.http().get('/health').expect(200);
    expect(res.body).toEqual({ status: 'ok', database: 'up', version: '0.0.0-test', uptime: expect.any(Number) });
  });

  it('GET / names the service and links the docs', async () => {
    const res = await t.http().get('/').expect(200);
    expect(res.body).toEqual({
      name: 'otp-service',
      version: '0.0.0-test',
      docs: '/docs',
      openapi: '/docs/openapi.json',
    });
  });

  it('GET /health answers 503 with database down when the database is unreachable', async () => {
    const db = await EmbeddedPostgres.start(undefined, 8);
    const app = await bootApp({ DATABASE_URL: db.url, HEALTH_CACHE_MS: '0' });
    try {
      await app.http().get('/health').expect(200);
      await db.stop();
      const res = await app.http().get('/health');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 'error', database: 'down' });
    } finally {
      await app.close().catch(() => undefined);
    }
  });
});
