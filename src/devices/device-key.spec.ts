import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateTotp } from '#src/otp/otp-engine.js';
import { DEVICE_TOTP, deriveDeviceKey, hashDeviceKey } from './device-key.js';

describe('deriveDeviceKey', () => {
  const master = Buffer.from('a master secret of at least 32 characters', 'utf8');

  it('is HMAC-SHA256(master, client_id:device_id) for a device never re-keyed', () => {
    const expected = createHmac('sha256', master).update('acme:phone-1').digest();
    expect(deriveDeviceKey(master, 'acme', 'phone-1')).toEqual(expected);
    expect(deriveDeviceKey(master, 'acme', 'phone-1', 0)).toEqual(expected);
  });

  it('gives a different key per client, device, master secret and generation', () => {
    const keys = [
      deriveDeviceKey(master, 'acme', 'phone-1'),
      deriveDeviceKey(master, 'globex', 'phone-1'),
      deriveDeviceKey(master, 'acme', 'phone-2'),
      deriveDeviceKey(Buffer.from('another master secret, also 32+ chars'), 'acme', 'phone-1'),
      deriveDeviceKey(master, 'acme', 'phone-1', 1),
      deriveDeviceKey(master, 'acme', 'phone-1', 2),
    ].map((k) => k.toString('hex'));
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys[4]).toBe(createHmac('sha256', master).update('acme:phone-1:1').digest('hex'));
  });

  it('refuses a negative or fractional generation', () => {
    expect(() => deriveDeviceKey(master, 'acme', 'phone-1', -1)).toThrow(RangeError);
    expect(() => deriveDeviceKey(master, 'acme', 'phone-1', 1.5)).toThrow(RangeError);
  });

  it('stores the SHA-256 of the key, never the key', () => {
    const key = deriveDeviceKey(master, 'acme', 'phone-1');
    expect(hashDeviceKey(key)).toBe(createHash('sha256').update(key).digest('hex'));
    expect(hashDeviceKey(key)).not.toContain(key.toString('hex'));
  });

  it('yields the RFC 6238 code of the raw 32-byte key (SHA-1, 6 digits, 30 s)', () => {
    // RFC 6238 Appendix B, SHA-1 seed "12345678901234567890", T = 59 s: 94287082 (8 digits) -> 287082.
    const seed = Buffer.from('12345678901234567890', 'ascii');
    expect(generateTotp({ ...DEVICE_TOTP, secret: seed, now: 59_000 }).code).toBe('287082');
  });
});
