import { describe, expect, it } from 'vitest';
import { constantTimeEqual } from './compare.js';

describe('constantTimeEqual', () => {
  it('accepts equal strings and equal buffers', () => {
    expect(constantTimeEqual('123456', '123456')).toBe(true);
    expect(constantTimeEqual(Buffer.from([1, 2, 3]), Buffer.from([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual('', '')).toBe(true);
  });

  it('accepts a string and a buffer with the same UTF-8 bytes', () => {
    expect(constantTimeEqual('héllo', Buffer.from('héllo', 'utf8'))).toBe(true);
  });

  it('rejects values that differ in one character', () => {
    expect(constantTimeEqual('123456', '123457')).toBe(false);
  });

  it('returns false without throwing for different lengths', () => {
    expect(constantTimeEqual('123456', '1234567')).toBe(false);
    expect(constantTimeEqual('', 'a')).toBe(false);
    expect(constantTimeEqual(Buffer.alloc(1), Buffer.alloc(2))).toBe(false);
  });
});
