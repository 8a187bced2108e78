import { describe, expect, it } from 'vitest';
import { BoundedCache } from './bounded-cache.js';

function cacheAt(maxEntries: number, ttlMs: number) {
  const clock = { now: 1_000 };
  const cache = new BoundedCache<string>({ maxEntries, ttlMs, now: () => clock.now });
  return { cache, clock };
}

describe(BoundedCache.name, () => {
  it('serves an entry until its time to live is over, then forgets it', () => {
    const { cache, clock } = cacheAt(10, 2_000);
    cache.set('a', 'A', [], cache.ticket());
    clock.now += 1_999;
    expect(cache.get('a')).toBe('A');
    clock.now += 1;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps at most maxEntries, dropping the least recently used', () => {
    const { cache } = cacheAt(2, 60_000);
    cache.set('a', 'A', [], cache.ticket());
    cache.set('b', 'B', [], cache.ticket());
    expect(cache.get('a')).toBe('A'); // a is now the most recently used
    cache.set('c', 'C', [], cache.ticket());
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('A');
    expect(cache.get('c')).toBe('C');
  });

  it('drops every entry carrying an invalidated tag, and only those', () => {
    const { cache } = cacheAt(10, 60_000);
    cache.set('s1', 'one', ['session:1', 'user:u'], cache.ticket());
    cache.set('s2', 'two', ['session:2', 'user:u'], cache.ticket());
    cache.set('s3', 'three', ['session:3', 'user:v'], cache.ticket());
    cache.invalidateTag('user:u');
    expect(cache.get('s1')).toBeUndefined();
    expect(cache.get('s2')).toBeUndefined();
    expect(cache.get('s3')).toBe('three');
    cache.invalidateTag('session:3');
    expect(cache.size).toBe(0);
  });

  it('refuses to store a value read before an invalidation or a clear', () => {
    const { cache } = cacheAt(10, 60_000);
    const before = cache.ticket();
    cache.invalidateTag('api_key:someone-else');
    expect(cache.set('k', 'stale', ['api_key:1'], before)).toBe(false);
    expect(cache.get('k')).toBeUndefined();

    const beforeClear = cache.ticket();
    cache.clear();
    expect(cache.set('k', 'stale', [], beforeClear)).toBe(false);
    expect(cache.set('k', 'fresh', [], cache.ticket())).toBe(true);
    expect(cache.get('k')).toBe('fresh');
  });

  it('replacing an entry forgets the old tags', () => {
    const { cache } = cacheAt(10, 60_000);
    cache.set('k', 'old', ['user:a'], cache.ticket());
    cache.set('k', 'new', ['user:b'], cache.ticket());
    cache.invalidateTag('user:a');
    expect(cache.get('k')).toBe('new');
    cache.invalidateTag('user:b');
    expect(cache.get('k')).toBeUndefined();
  });

  it('stores nothing with a time to live of zero, and refuses meaningless bounds', () => {
    const { cache } = cacheAt(10, 0);
    expect(cache.set('k', 'v', [], cache.ticket())).toBe(false);
    expect(() => new BoundedCache({ maxEntries: 0, ttlMs: 1, now: () => 0 })).toThrow(/bad bounds/);
  });
});
