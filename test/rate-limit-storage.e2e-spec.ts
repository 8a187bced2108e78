import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisThrottlerStorage } from '#src/common/rate-limit/redis-throttler.storage.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const NAME = 'default';

describe('RedisThrottlerStorage (real Redis)', () => {
  // A prefix of its own per run, so reruns and parallel runs never share a count.
  const prefix = `otp:rl:test:${randomBytes(6).toString('hex')}:`;
  let redis: Redis;
  let storage: RedisThrottlerStorage;
  let n = 0;
  const newKey = (): string => `key-${++n}`;
  const hitsKey = (key: string): string => `${prefix}{${NAME}:${key}}:hits`;
  const blockKey = (key: string): string => `${prefix}{${NAME}:${key}}:block`;

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
    storage = new RedisThrottlerStorage(redis, { prefix });
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('counts 100 concurrent hits on one key exactly once each', async () => {
    const key = newKey();
    const records = await Promise.all(
      Array.from({ length: 100 }, () => storage.increment(key, 60_000, 1_000, 60_000, NAME)),
    );
    expect(records.map((r) => r.totalHits).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    for (const record of records) {
      expect(record.timeToExpire).toBeGreaterThan(0);
      expect(record.timeToExpire).toBeLessThanOrEqual(60);
      expect(record).toMatchObject({ isBlocked: false, timeToBlockExpire: 0 });
    }
    // The window is set once, on the first hit, and in ms.
    const pttl = await redis.pttl(hitsKey(key));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('reports times in seconds, as the guard reads them', async () => {
    const record = await storage.increment(newKey(), 5_000, 10, 5_000, NAME);
    expect(record).toEqual({ totalHits: 1, timeToExpire: 5, isBlocked: false, timeToBlockExpire: 0 });
  });

  it('blocks past the limit for blockDuration, without counting refused hits', async () => {
    const key = newKey();
    for (let i = 1; i <= 3; i++) {
      expect(await storage.increment(key, 60_000, 3, 30_000, NAME)).toMatchObject({ totalHits: i, isBlocked: false });
    }
    const blocked = await storage.increment(key, 60_000, 3, 30_000, NAME);
    expect(blocked).toMatchObject({ totalHits: 4, isBlocked: true });
    expect(blocked.timeToBlockExpire).toBeGreaterThan(0);
    expect(blocked.timeToBlockExpire).toBeLessThanOrEqual(30);
    const again = await storage.increment(key, 60_000, 3, 30_000, NAME);
    expect(again).toMatchObject({ totalHits: 4, isBlocked: true });
    expect(await redis.get(hitsKey(key))).toBe('4');
  });

  it('blocks for the rest of the window when blockDuration is 0', async () => {
    const key = newKey();
    await storage.increment(key, 60_000, 1, 0, NAME);
    const blocked = await storage.increment(key, 60_000, 1, 0, NAME);
    expect(blocked.isBlocked).toBe(true);
    expect(blocked.timeToBlockExpire).toBeGreaterThan(0);
    expect(blocked.timeToBlockExpire).toBeLessThanOrEqual(blocked.timeToExpire);
    const blockTtl = await redis.pttl(blockKey(key));
    const windowTtl = await redis.pttl(hitsKey(key));
    expect(Math.abs(blockTtl - windowTtl)).toBeLessThan(1_000);
  });

  it('starts a fresh window once the window expires', async () => {
    const key = newKey();
    await storage.increment(key, 60_000, 5, 60_000, NAME);
    await storage.increment(key, 60_000, 5, 60_000, NAME);
    // A non-positive PEXPIRE expires the key at once: the window has run out.
    await redis.pexpire(hitsKey(key), 0);
    expect(await storage.increment(key, 60_000, 5, 60_000, NAME)).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('starts over once a block lapses, even inside the window', async () => {
    const key = newKey();
    for (let i = 0; i < 3; i++) await storage.increment(key, 60_000, 2, 10_000, NAME);
    expect((await storage.increment(key, 60_000, 2, 10_000, NAME)).isBlocked).toBe(true);
    await redis.del(blockKey(key));
    expect(await storage.increment(key, 60_000, 2, 10_000, NAME)).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(await storage.increment(key, 60_000, 2, 10_000, NAME)).toMatchObject({ totalHits: 2, isBlocked: false });
    expect((await storage.increment(key, 60_000, 2, 10_000, NAME)).isBlocked).toBe(true);
  });

  it('keeps the count per throttler name', async () => {
    const key = newKey();
    await storage.increment(key, 60_000, 5, 60_000, 'a');
    expect((await storage.increment(key, 60_000, 5, 60_000, 'b')).totalHits).toBe(1);
  });

  it('uses the otp:rl: prefix by default', async () => {
    const own = new RedisThrottlerStorage(redis);
    const key = `test-${randomBytes(6).toString('hex')}`;
    await own.increment(key, 10_000, 5, 10_000, NAME);
    try {
      expect(await redis.exists(`otp:rl:{${NAME}:${key}}:hits`)).toBe(1);
    } finally {
      await redis.del(`otp:rl:{${NAME}:${key}}:hits`);
    }
  });

  it('quits the client on shutdown only when it owns it', async () => {
    const owned = new Redis(REDIS_URL);
    const borrowed = new Redis(REDIS_URL);
    try {
      await Promise.all([owned.ping(), borrowed.ping()]);
      const ended = once(owned, 'end');
      await new RedisThrottlerStorage(owned, { prefix, ownsClient: true }).onApplicationShutdown();
      await new RedisThrottlerStorage(borrowed, { prefix }).onApplicationShutdown();
      await ended;
      expect(await borrowed.ping()).toBe('PONG');
    } finally {
      borrowed.disconnect();
      owned.disconnect();
    }
  });
});
