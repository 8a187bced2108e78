import { describe, expect, it } from 'vitest';
import {
  ALGORITHM,
  DIGIT_COUNT,
  encodeMigrationPayload,
  encodeOtpParameters,
  migrationUri,
  OTP_TYPE,
} from '../../../test/support/migration-payload.js';
import { readGoogleMigration } from './google-migration.js';
import { ImportFormatError } from './transfer-account.js';

const secret = Buffer.from('12345678901234567890', 'ascii');
const totp = {
  secret,
  name: 'ACME:alice@example.com',
  issuer: 'ACME',
  algorithm: ALGORITHM.sha256,
  digits: DIGIT_COUNT.eight,
  type: OTP_TYPE.totp,
};

const kindOf = (read: () => unknown): string | undefined => {
  try {
    read();
  } catch (error) {
    if (error instanceof ImportFormatError) return error.kind;
    throw error;
  }
  return undefined;
};

describe('readGoogleMigration', () => {
  it('reads every field of a TOTP and a HOTP account, the issuer taken off the name', () => {
    const hotp = {
      secret,
      name: 'token',
      algorithm: ALGORITHM.sha1,
      digits: DIGIT_COUNT.six,
      type: OTP_TYPE.hotp,
      counter: 300,
    };
    const [first, second] = readGoogleMigration(migrationUri(encodeMigrationPayload([totp, hotp])));
    expect(first).toEqual({
      account: {
        name: 'ACME:alice@example.com',
        otpType: 'totp',
        algorithm: 'sha256',
        digits: 8,
        period: 30,
        counter: null,
        issuer: 'ACME',
        accountName: 'alice@example.com',
        secret,
        isActive: true,
      },
    });
    expect(second).toMatchObject({
      account: { name: 'token', otpType: 'hotp', counter: 300, period: null, issuer: null },
    });
  });

  it('reports an MD5, an unspecified type or an out-of-range counter per account, keeping the others', () => {
    const outcomes = readGoogleMigration(
      migrationUri(
        encodeMigrationPayload([
          { ...totp, algorithm: ALGORITHM.md5 },
          { ...totp, type: 0 },
          { ...totp, type: OTP_TYPE.hotp, counter: Number.MAX_SAFE_INTEGER + 2 },
          { ...totp, digits: 3 },
          totp,
        ]),
      ),
    );
    expect(outcomes.slice(0, 4).map((o) => ('error' in o ? o.error : 'ok'))).toEqual([
      expect.stringMatching(/MD5/),
      'unknown OTP type 0',
      'the counter is out of range',
      'unknown digit count 3',
    ]);
    expect(outcomes[4]).toHaveProperty('account');
  });

  it('reads base64 left unencoded in the URI, where "+" is not a space', () => {
    const plus = Buffer.alloc(20, 0xfb);
    const payload = encodeMigrationPayload([{ ...totp, secret: plus }]);
    const raw = payload.toString('base64');
    expect(raw).toContain('+');
    const [outcome] = readGoogleMigration(`otpauth-migration://offline?data=${raw}`);
    expect(outcome).toMatchObject({ account: { secret: plus } });
  });

  it('skips fields it does not know, of every wire type', () => {
    const unknown = Buffer.concat([
      Buffer.from([(9 << 3) | 0, 0x96, 0x01]), // varint 150
      Buffer.from([(10 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8]), // fixed64
      Buffer.from([(11 << 3) | 5, 1, 2, 3, 4]), // fixed32
      Buffer.from([(12 << 3) | 2, 2, 0xaa, 0xbb]), // bytes
    ]);
    const account = Buffer.concat([encodeOtpParameters(totp), unknown]);
    const payload = Buffer.concat([Buffer.from([0x0a, account.length]), account, unknown]);
    expect(readGoogleMigration(migrationUri(payload))).toEqual([
      expect.objectContaining({ account: expect.anything() }),
    ]);
  });

  it('refuses a truncated payload, a payload without accounts and a URI that is not a migration URI', () => {
    const payload = encodeMigrationPayload([totp]);
    expect(kindOf(() => readGoogleMigration(migrationUri(payload.subarray(0, 10))))).toBe('malformed');
    expect(kindOf(() => readGoogleMigration(migrationUri(encodeMigrationPayload([]))))).toBe('malformed');
    expect(kindOf(() => readGoogleMigration(migrationUri(Buffer.from([0x08, 0xff]))))).toBe('malformed');
    expect(kindOf(() => readGoogleMigration(migrationUri(Buffer.from([0x0b]))))).toBe('malformed'); // wire type 3
    expect(kindOf(() => readGoogleMigration('otpauth://totp/a?secret=JBSWY3DPEHPK3PXP'))).toBe('malformed');
    expect(kindOf(() => readGoogleMigration('otpauth-migration://offline?data='))).toBe('malformed');
  });
});
