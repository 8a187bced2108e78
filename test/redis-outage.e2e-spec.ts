import { PassThrough } from 'node:stream';
import { ThrottlerStorage } from '@nestjs/throttler';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisThrottlerStorage } from '#src/common/rate-limit/redis-throttler.storage.js';
import { createClientUsageKey, createUser, issueApiKey, PASSWORD, TestUser } from './support/identity.js';
import { PrivateRedis, waitFor } from './support/private-servers.js';
import { bootApp, TestApp, testSecret } from './support/test-app.js';

const TIMEOUT_MS = 300;

/** Nearest-rank percentile of durations in ms. */
function percentile(durations: number[], p: number): number {
  const sorted = [...durations].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

describe('Redis outage: rate limits fall back to memory, the service keeps answering', () => {
  const metricsToken = testSecret();
  const lines: string[] = [];
  let redis: PrivateRedis;
  let inspect: Redis;
  let t: TestApp;
  let user: TestUser;
  let useKey: string;
  let keyName: string;

  const logged = (context: string, pattern: RegExp): string[] =>
    lines
      .map((line) => JSON.parse(line) as { context?: string; msg?: string })
      .filter((entry) => entry.context === context && pattern.test(entry.msg ?? ''))
      .map((entry) => entry.msg!);
  const fallbackWarnings = (): string[] => logged('RateLimit', /^Redis unavailable/);
  const recoveryLines = (): string[] => logged('RateLimit', /^Redis reachable again/);
  const fallbackCount = async (): Promise<number> => {
    const res = await t.http().get('/metrics').set('authorization', `Bearer ${metricsToken}`).expect(200);
    return Number(/^rate_limit_store_fallback_total (\S+)$/m.exec(res.text)?.[1]);
  };
  const health = () => t.http().get('/health');
  const usersMe = () => t.http().get('/api/v1/users/me').set(user.auth);
  const login = () => t.http().post('/api/v1/auth/login').send({ username: user.username, password: PASSWORD });
  const keyCode = () => t.http().post('/api/v1/keys/code').set('x-api-key', useKey).send({ key: keyName });
  const rateLimitKeys = () => inspect.keys('otp:rl:*');

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    // A client of the test's own that never gives up, to look into Redis across restarts.
    inspect = new Redis(redis.url, { lazyConnect: true, retryStrategy: () => 50 });
    inspect.on('error', () => undefined);
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    t = await bootApp(
      { REDIS_URL: redis.url, REDIS_TIMEOUT_MS: String(TIMEOUT_MS), METRICS_TOKEN: metricsToken, LOG_LEVEL: 'info' },
      { logDestination: stream },
    );
    const admin = await createUser(t, { role: 'admin' });
    user = await createUser(t);
    // The client's own key: usage-limited keys are reached by their owner only.
    useKey = await issueApiKey(t, admin, 'acme', ['keys:use', 'keys:admin']);
    keyName = (await createClientUsageKey(t, useKey, { max_uses: 1000 })).name;
  });
  afterAll(async () => {
    try {
      await t?.close();
    } finally {
      inspect?.disconnect();
      await redis?.stop();
    }
  });

  it('counts in Redis while it is up, and /health says ok with redis up', async () => {
    const res = await health().expect(200);
    expect(res.body).toMatchObject({ status: 'ok', database: 'up', redis: 'up' });
    await inspect.flushall();
    await usersMe().expect(200);
    expect((await rateLimitKeys()).length).toBeGreaterThan(0);
    expect(await fallbackCount()).toBe(0);
  });

  it('answers login, users/me and keys/code with no 5xx once Redis is stopped, users/me p99 under 200 ms', async ({
    annotate,
  }) => {
    await redis.stop();
    // At once, before anything had time to notice.
    const first = [await usersMe(), await login(), await keyCode()];
    expect(first.map((res) => res.status)).toEqual([200, 200, 200]);

    const durations: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      const res = await usersMe();
      durations.push(performance.now() - started);
      expect(res.status).toBe(200);
    }
    const p99 = percentile(durations, 99);
    await annotate(
      `users/me during the Redis outage: p50 ${percentile(durations, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`,
    );
    expect(p99).toBeLessThan(200);

    const more = await Promise.all([login(), keyCode(), usersMe()]);
    expect(more.map((res) => res.status)).toEqual([200, 200, 200]);
    expect(t.app.get<RedisThrottlerStorage>(ThrottlerStorage).shared).toBe(false);
  });

  it('reports degraded (200, redis down) on /health during the outage, with one warning and one fallback counted', async () => {
    const res = await health().expect(200);
    expect(res.body).toMatchObject({ status: 'degraded', database: 'up', redis: 'down' });
    expect(fallbackWarnings()).toHaveLength(1);
    expect(await fallbackCount()).toBe(1);
  });

  it('shares limits through Redis again once it is back on the same port, by itself', async () => {
    await redis.start();
    await waitFor('/health ok', async () => (await health()).body.status === 'ok');
    const res = await health().expect(200);
    expect(res.body).toMatchObject({ status: 'ok', database: 'up', redis: 'up' });
    expect(recoveryLines()).toHaveLength(1);

    // The restarted Redis kept nothing: whatever it holds now was counted after the recovery.
    expect(await rateLimitKeys()).toEqual([]);
    for (let i = 0; i < 3; i++) await usersMe().expect(200);
    const keys = await rateLimitKeys();
    expect(keys.length).toBeGreaterThan(0);
    expect(await Promise.all(keys.map((key) => inspect.get(key)))).toContain('3');
    expect(await fallbackCount()).toBe(1);
    expect(fallbackWarnings()).toHaveLength(1);
  });

  it('falls back within one timeout when Redis stops answering on an open connection, and returns by itself', async () => {
    redis.pause();
    try {
      const started = performance.now();
      await usersMe().expect(200);
      expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 500);
      for (let i = 0; i < 20; i++) await usersMe().expect(200);
      expect((await health().expect(200)).body).toMatchObject({ status: 'degraded', redis: 'down' });
      expect(await fallbackCount()).toBe(2);
    } finally {
      redis.resume();
    }
    // The connection never dropped, so no reconnect tells the storage: its PING probe does.
    await waitFor('/health ok', async () => (await health()).body.status === 'ok');
    expect(fallbackWarnings()).toHaveLength(2);
    expect(recoveryLines()).toHaveLength(2);
  });
});

describe('Redis unreachable at start-up', () => {
  let redis: PrivateRedis;
  let inspect: Redis;
  let t: TestApp;

  beforeAll(async () => {
    redis = await PrivateRedis.onFreePort();
    inspect = new Redis(redis.url, { lazyConnect: true, retryStrategy: () => 50 });
    inspect.on('error', () => undefined);
  });
  afterAll(async () => {
    try {
      await t?.close();
    } finally {
      inspect?.disconnect();
      await redis?.stop();
    }
  });

  it('starts anyway, counting in memory, and shares limits through Redis once it comes up', async () => {
    t = await bootApp({ REDIS_URL: redis.url, REDIS_TIMEOUT_MS: String(TIMEOUT_MS) });
    expect((await t.http().get('/health').expect(200)).body).toMatchObject({ status: 'degraded', redis: 'down' });
    const user = await createUser(t);
    await t.http().get('/api/v1/users/me').set(user.auth).expect(200);

    await redis.start();
    await waitFor('/health ok', async () => (await t.http().get('/health')).body.status === 'ok');
    expect(await inspect.keys('otp:rl:*')).toEqual([]);
    await t.http().get('/api/v1/users/me').set(user.auth).expect(200);
    expect((await inspect.keys('otp:rl:*')).length).toBeGreaterThan(0);
  });
});
