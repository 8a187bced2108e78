import { describe, expect, it } from 'vitest';
import { decodeBase32 } from './base32.js';
import { InvalidOtpauthUriError, buildOtpauthUri, parseOtpauthUri } from './otpauth-uri.js';

const secret = Buffer.from('12345678901234567890', 'ascii'); // base32 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
const shortSecret = decodeBase32('JBSWY3DPEHPK3PXP');

describe('buildOtpauthUri', () => {
  it('builds a TOTP URI in the Key URI Format', () => {
    expect(
      buildOtpauthUri({
        type: 'totp',
        issuer: 'ACME Co',
        accountName: 'john@example.com',
        secret,
        algorithm: 'sha256',
        digits: 8,
        period: 60,
      }),
    ).toBe(
      'otpauth://totp/ACME%20Co:john%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co&algorithm=SHA256&digits=8&period=60',
    );
  });

  it('defaults the TOTP period to 30 and omits the issuer when there is none', () => {
    expect(buildOtpauthUri({ type: 'totp', accountName: 'alice', secret, algorithm: 'sha1', digits: 6 })).toBe(
      'otpauth://totp/alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30',
    );
  });

  it('builds a HOTP URI with the counter and without a period', () => {
    const uri = buildOtpauthUri({
      type: 'hotp',
      issuer: 'ACME',
      accountName: 'bob',
      secret,
      algorithm: 'sha1',
      digits: 6,
      counter: 42,
    });
    expect(uri).toBe(
      'otpauth://hotp/ACME:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME&algorithm=SHA1&digits=6&counter=42',
    );
  });

  it('encodes spaces, colons, @ and unicode in issuer and account, keeping one literal separator', () => {
    const uri = buildOtpauthUri({
      type: 'totp',
      issuer: 'Ünï Corp: EU',
      accountName: 'jo hn:x@ex.com ☃',
      secret,
      algorithm: 'sha1',
      digits: 6,
    });
    const label = uri.slice('otpauth://totp/'.length, uri.indexOf('?'));
    expect(label).toBe('%C3%9Cn%C3%AF%20Corp%3A%20EU:jo%20hn%3Ax%40ex.com%20%E2%98%83');
    expect(label.split(':')).toHaveLength(2);
    expect(uri).toContain('&issuer=%C3%9Cn%C3%AF%20Corp%3A%20EU&');
    expect(uri).not.toMatch(/[ @☃]/);
  });

  it('never pads the secret with "="', () => {
    // 10 and 32 bytes would need padding in canonical RFC 4648.
    for (const s of [shortSecret, Buffer.alloc(32, 1), Buffer.alloc(64, 2)]) {
      const uri = buildOtpauthUri({ type: 'totp', accountName: 'a', secret: s, algorithm: 'sha1', digits: 6 });
      expect(/[?&]secret=([^&]*)/.exec(uri)?.[1]).toMatch(/^[A-Z2-7]+$/);
    }
  });

  it('refuses a HOTP URI without a counter', () => {
    expect(() => buildOtpauthUri({ type: 'hotp', accountName: 'a', secret, algorithm: 'sha1', digits: 6 })).toThrow(
      /counter/,
    );
  });

  it('refuses digits 9, period 5, an empty account and an empty secret', () => {
    const base = { type: 'totp', accountName: 'a', secret, algorithm: 'sha1', digits: 6 } as const;
    expect(() => buildOtpauthUri({ ...base, digits: 9 as 6 })).toThrow(RangeError);
    expect(() => buildOtpauthUri({ ...base, period: 5 })).toThrow(RangeError);
    expect(() => buildOtpauthUri({ ...base, accountName: '' })).toThrow(/accountName/);
    expect(() => buildOtpauthUri({ ...base, secret: Buffer.alloc(0) })).toThrow(/secret/);
  });
});

describe('parseOtpauthUri', () => {
  it('round-trips what buildOtpauthUri produces', () => {
    const inputs = [
      {
        type: 'totp',
        issuer: 'ACME Co',
        accountName: 'john@example.com',
        secret,
        algorithm: 'sha512',
        digits: 8,
        period: 45,
      },
      {
        type: 'totp',
        issuer: 'Ünï: Corp',
        accountName: 'a:b@c ☃',
        secret: shortSecret,
        algorithm: 'sha1',
        digits: 6,
        period: 30,
      },
      { type: 'totp', accountName: 'no-issuer:with-colon', secret, algorithm: 'sha256', digits: 7, period: 30 },
      { type: 'hotp', issuer: 'Bank', accountName: 'carol', secret, algorithm: 'sha1', digits: 6, counter: 7 },
    ] as const;
    for (const input of inputs) {
      const parsed = parseOtpauthUri(buildOtpauthUri(input));
      expect(parsed).toEqual({ period: 30, counter: 0, ...input });
    }
  });

  it('applies defaults SHA1, 6 digits, period 30', () => {
    expect(parseOtpauthUri('otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP')).toEqual({
      type: 'totp',
      accountName: 'alice',
      secret: shortSecret,
      algorithm: 'sha1',
      digits: 6,
      period: 30,
      counter: 0,
    });
  });

  it('takes the issuer from the parameter when the label has none, and vice versa', () => {
    expect(parseOtpauthUri('otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME').issuer).toBe('ACME');
    expect(parseOtpauthUri('otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP').issuer).toBe('ACME');
  });

  it('accepts an encoded %3A separator and a space after the colon', () => {
    expect(parseOtpauthUri('otpauth://totp/ACME%3Aalice?secret=JBSWY3DPEHPK3PXP&issuer=ACME')).toMatchObject({
      issuer: 'ACME',
      accountName: 'alice',
    });
    expect(parseOtpauthUri('otpauth://totp/ACME:%20alice?secret=JBSWY3DPEHPK3PXP')).toMatchObject({
      issuer: 'ACME',
      accountName: 'alice',
    });
  });

  it('reads "+" in the query as a space and tolerates lower-case secrets and algorithms', () => {
    const parsed = parseOtpauthUri(
      'otpauth://TOTP/ACME%20Co:alice?secret=jbswy3dpehpk3pxp&issuer=ACME+Co&algorithm=sha256',
    );
    expect(parsed).toMatchObject({ type: 'totp', issuer: 'ACME Co', algorithm: 'sha256', secret: shortSecret });
  });

  it.each([
    ['a wrong scheme', 'https://totp/alice?secret=JBSWY3DPEHPK3PXP', /not an otpauth:\/\/ URI/],
    ['an unknown type', 'otpauth://motp/alice?secret=JBSWY3DPEHPK3PXP', /unknown OTP type "motp"/],
    ['a missing secret', 'otpauth://totp/alice?digits=6', /missing secret/],
    ['an invalid secret', 'otpauth://totp/alice?secret=JBSWY3DPEHPK3PX1', /invalid secret: invalid base32/],
    ['a secret of impossible length', 'otpauth://totp/alice?secret=ABC', /invalid secret/],
    ['digits 5', 'otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&digits=5', /digits must be from 6 to 8, got 5/],
    ['digits 9', 'otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&digits=9', /digits must be from 6 to 8/],
    [
      'non-numeric digits',
      'otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&digits=six',
      /digits must be a non-negative integer/,
    ],
    [
      'period 5',
      'otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&period=5',
      /period must be from 10 to 300 seconds, got 5/,
    ],
    ['period 301', 'otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&period=301', /period must be from 10 to 300/],
    [
      'an unknown algorithm',
      'otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&algorithm=MD5',
      /unsupported algorithm "MD5"/,
    ],
    ['hotp without counter', 'otpauth://hotp/alice?secret=JBSWY3DPEHPK3PXP', /missing the counter/],
    [
      'a negative counter',
      'otpauth://hotp/alice?secret=JBSWY3DPEHPK3PXP&counter=-1',
      /counter must be a non-negative integer/,
    ],
    [
      'an issuer mismatch',
      'otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP&issuer=Evil',
      /issuer mismatch: label says "ACME", parameter says "Evil"/,
    ],
    ['a missing account name', 'otpauth://totp/ACME:?secret=JBSWY3DPEHPK3PXP', /no account name/],
    ['a bad percent-encoding', 'otpauth://totp/al%ZZice?secret=JBSWY3DPEHPK3PXP', /invalid percent-encoding/],
    [
      'a duplicated secret',
      'otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&secret=GEZDGNBV',
      /"secret" appears more than once/,
    ],
  ])('rejects %s', (_label, uri, message) => {
    expect(() => parseOtpauthUri(uri)).toThrow(InvalidOtpauthUriError);
    expect(() => parseOtpauthUri(uri)).toThrow(message);
  });
});
