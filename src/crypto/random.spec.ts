import { describe, expect, it } from 'vitest';
import { randomBytes, randomSecret, randomToken } from './random.js';

describe('random', () => {
  it('returns the requested number of bytes', () => {
    expect(randomBytes(0).length).toBe(0);
    expect(randomBytes(7).length).toBe(7);
  });

  it('rejects a negative or fractional byte count', () => {
    expect(() => randomBytes(-1)).toThrow(RangeError);
    expect(() => randomBytes(1.5)).toThrow(RangeError);
  });

  it('makes secrets of at least 16 bytes and refuses shorter ones', () => {
    expect(randomSecret(16).length).toBe(16);
    expect(randomSecret(64).length).toBe(64);
    expect(() => randomSecret(15)).toThrow(/at least 16 bytes/);
  });

  it('does not repeat secrets', () => {
    expect(randomSecret(20).equals(randomSecret(20))).toBe(false);
  });

  it('makes base64url tokens of 32 bytes by default', () => {
    const token = randomToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url').length).toBe(32);
    expect(randomToken()).not.toBe(token);
  });
});
