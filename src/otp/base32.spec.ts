import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base32SecretProblem, decodeBase32, encodeBase32, InvalidBase32Error } from './base32.js';

// RFC 4648 §10 test vectors, with padding removed for the encoder.
const RFC4648: Array<[string, string]> = [
  ['', ''],
  ['f', 'MY======'],
  ['fo', 'MZXQ===='],
  ['foo', 'MZXW6==='],
  ['foob', 'MZXW6YQ='],
  ['fooba', 'MZXW6YTB'],
  ['foobar', 'MZXW6YTBOI======'],
];

describe('base32', () => {
  it.each(RFC4648)('encodes %j as RFC 4648 without padding', (plain, encoded) => {
    expect(encodeBase32(Buffer.from(plain))).toBe(encoded.replace(/=/g, ''));
  });

  it.each(RFC4648)('decodes %j from both padded and unpadded forms', (plain, encoded) => {
    expect(decodeBase32(encoded).toString()).toBe(plain);
    expect(decodeBase32(encoded.replace(/=/g, '')).toString()).toBe(plain);
  });

  it('decodes the well-known JBSWY3DPEHPK3PXP to "Hello!\\xde\\xad\\xbe\\xef"', () => {
    expect(decodeBase32('JBSWY3DPEHPK3PXP').toString('hex')).toBe(
      Buffer.from('Hello!\xde\xad\xbe\xef', 'latin1').toString('hex'),
    );
  });

  it('accepts lower case, spaces and dashes as typed by people', () => {
    expect(decodeBase32('jbsw y3dp-ehpk 3pxp').equals(decodeBase32('JBSWY3DPEHPK3PXP'))).toBe(true);
  });

  it('round-trips random buffers of every length up to 70 bytes', () => {
    for (let n = 0; n <= 70; n++) {
      const buf = randomBytes(n);
      expect(decodeBase32(encodeBase32(buf)).equals(buf)).toBe(true);
    }
  });

  it.each([
    ['the digit 1', 'JBSWY3DPEHPK3PX1'],
    ['the digit 0', 'JBSWY3DPEHPK3PX0'],
    ['a symbol', 'JBSWY3DPEHPK3PX!'],
    ['padding in the middle', 'MY==MY=='],
  ])('rejects %s', (_label, text) => {
    expect(() => decodeBase32(text)).toThrow(InvalidBase32Error);
    expect(() => decodeBase32(text)).toThrow(/invalid base32/);
  });

  it.each([
    ['1 character', 'M'],
    ['3 characters', 'MZX'],
    ['6 characters', 'MZXW6Y'],
    ['9 characters', 'MZXW6YTBM'],
  ])('rejects an impossible length of %s', (_label, text) => {
    expect(() => decodeBase32(text)).toThrow(/cannot encode a whole number of bytes/);
  });

  it('rejects padding that does not complete an 8-character block', () => {
    expect(() => decodeBase32('MY=')).toThrow(/bad padding/);
    expect(() => decodeBase32('M=======')).toThrow(InvalidBase32Error);
  });

  it('judges supplied secrets by decoded size and validity', () => {
    expect(base32SecretProblem('JBSWY3DPEHPK3PXP')).toBeNull(); // exactly 80 bits
    expect(base32SecretProblem('jbsw y3dp ehpk 3pxp')).toBeNull();
    expect(base32SecretProblem(encodeBase32(randomBytes(64)))).toBeNull(); // a SHA-512 key
    expect(base32SecretProblem('MZXW6YTB')).toMatch(/at least 80 bits/); // 40 bits
    expect(base32SecretProblem(encodeBase32(randomBytes(129)))).toMatch(/at most 1024 bits/);
    expect(base32SecretProblem('JBSWY3DPEHPK3PX1')).toMatch(/^must be base32 \(unexpected character "1"\)/);
    expect(base32SecretProblem('')).toMatch(/at least 80 bits/);
    expect(base32SecretProblem(42)).toBe('must be a base32 string');
  });
});
