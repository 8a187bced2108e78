import { afterEach, describe, expect, it } from 'vitest';
import { MemoryThrottlerStorage } from './memory-throttler.storage.js';

describe('MemoryThrottlerStorage', () => {
  let now = 1_000_000;
  const storage = new MemoryThrottlerStorage(() => now);
  let n = 0;
  const newKey = (): string => `key-${++n}`;
  afterEach(() => storage.sweep());

  it('counts hits in a fixed window and reports seconds', async () => {
    const key = newKey();
    expect(await storage.increment(key, 5_000, 10, 5_000, 'default')).toEqual({
      totalHits: 1,
      timeToExpire: 5,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
    now += 2_000;
    expect(await storage.increment(key, 5_000, 10, 5_000, 'default')).toMatchObject({ totalHits: 2, timeToExpire: 3 });
  });

  it('blocks past the limit for blockDuration, without counting refused hits', async () => {
    const key = newKey();
    for (let i = 1; i <= 3; i++) {
      expect(await storage.increment(key, 60_000, 3, 30_000, 'default')).toMatchObject({
        totalHits: i,
        isBlocked: false,
      });
    }
    expect(await storage.increment(key, 60_000, 3, 30_000, 'default')).toMatchObject({
      totalHits: 4,
      isBlocked: true,
      timeToBlockExpire: 30,
    });
    now += 10_000;
    expect(await storage.increment(key, 60_000, 3, 30_000, 'default')).toMatchObject({
      totalHits: 4,
      isBlocked: true,
      timeToBlockExpire: 20,
    });
  });

  it('blocks for the rest of the window when blockDuration is 0', async () => {
    const key = newKey();
    await storage.increment(key, 60_000, 1, 0, 'default');
    now += 15_000;
    const blocked = await storage.increment(key, 60_000, 1, 0, 'default');
    expect(blocked).toMatchObject({ isBlocked: true, timeToBlockExpire: 45, timeToExpire: 45 });
  });

  it('starts over when the window ends, or a block lapses inside it', async () => {
    const windowed = newKey();
    await storage.increment(windowed, 60_000, 5, 60_000, 'default');
    now += 60_000;
    expect(await storage.increment(windowed, 60_000, 5, 60_000, 'default')).toMatchObject({ totalHits: 1 });

    const blocked = newKey();
    for (let i = 0; i < 3; i++) await storage.increment(blocked, 60_000, 2, 10_000, 'default');
    now += 10_000;
    expect(await storage.increment(blocked, 60_000, 2, 10_000, 'default')).toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
  });

  it('keeps the count per throttler name, and forgets idle keys', async () => {
    const key = newKey();
    await storage.increment(key, 60_000, 5, 60_000, 'a');
    expect((await storage.increment(key, 60_000, 5, 60_000, 'b')).totalHits).toBe(1);
    now += 60_001;
    storage.sweep();
    expect(storage.size).toBe(0);
  });

  it('keeps one counter per key, however many hits it takes', async () => {
    const key = newKey();
    for (let i = 0; i < 100_000; i++) await storage.increment(key, 60_000, 200_000, 60_000, 'default');
    expect(storage.size).toBe(1);
    expect((await storage.increment(key, 60_000, 200_000, 60_000, 'default')).totalHits).toBe(100_001);
  });
});
