import { describe, expect, it } from 'vitest';
import { LiveCodeCache } from './live-code-cache.js';

describe('LiveCodeCache', () => {
  it('answers a code only for the same step and the same source', () => {
    const cache = new LiveCodeCache();
    cache.set('c1', 100, 'v1:abc|sha1/6/30', '123456');
    expect(cache.get('c1', 100, 'v1:abc|sha1/6/30')).toBe('123456');
    expect(cache.get('c1', 101, 'v1:abc|sha1/6/30')).toBeUndefined();
    expect(cache.get('c1', 100, 'v1:new|sha1/6/30')).toBeUndefined();
    expect(cache.get('c1', 100, 'v1:abc|sha1/8/30')).toBeUndefined();
    expect(cache.get('c2', 100, 'v1:abc|sha1/6/30')).toBeUndefined();
  });

  it('keeps one entry per configuration, the newest step replacing the older', () => {
    const cache = new LiveCodeCache();
    cache.set('c1', 100, 's', '111111');
    cache.set('c1', 101, 's', '222222');
    expect(cache.size).toBe(1);
    expect(cache.get('c1', 101, 's')).toBe('222222');
  });

  it('stays within its capacity by dropping the oldest entry', () => {
    const cache = new LiveCodeCache(2);
    cache.set('a', 1, 's', '000001');
    cache.set('b', 1, 's', '000002');
    cache.set('c', 1, 's', '000003');
    expect(cache.size).toBe(2);
    expect(cache.get('a', 1, 's')).toBeUndefined();
    expect(cache.get('c', 1, 's')).toBe('000003');
  });
});
