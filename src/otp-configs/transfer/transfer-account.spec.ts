import { describe, expect, it } from 'vitest';
import { checkAccount, type RawAccount } from './transfer-account.js';

const raw: RawAccount = {
  otpType: 'TOTP',
  algorithm: 'SHA1',
  digits: 6,
  issuer: ' ACME ',
  accountName: 'alice',
  secret: Buffer.alloc(20, 1),
};
const errorOf = (changes: Partial<RawAccount>): string | undefined => {
  const outcome = checkAccount({ ...raw, ...changes });
  return 'error' in outcome ? outcome.error : undefined;
};

describe(checkAccount.name, () => {
  it('names an account Issuer:account, or whichever of the two there is', () => {
    expect(checkAccount(raw)).toMatchObject({ account: { name: 'ACME:alice', issuer: 'ACME', period: 30 } });
    expect(checkAccount({ ...raw, issuer: '' })).toMatchObject({ account: { name: 'alice', issuer: null } });
    expect(checkAccount({ ...raw, accountName: undefined })).toMatchObject({ account: { name: 'ACME' } });
    expect(checkAccount({ ...raw, name: 'Own name' })).toMatchObject({ account: { name: 'Own name' } });
    const long = checkAccount({ ...raw, issuer: 'i'.repeat(80), accountName: 'a'.repeat(80) });
    expect('account' in long && long.account.name.length).toBe(100);
  });

  it('refuses what the service cannot compute', () => {
    expect(errorOf({ otpType: 'steam' })).toMatch(/OTP type/);
    expect(errorOf({ algorithm: 'MD5' })).toMatch(/MD5/);
    expect(errorOf({ digits: 5 })).toMatch(/digits/);
    expect(errorOf({ digits: 9 })).toMatch(/digits/);
    expect(errorOf({ period: 5 })).toMatch(/period/);
    expect(errorOf({ period: 301 })).toMatch(/period/);
    expect(errorOf({ otpType: 'hotp', counter: -1 })).toMatch(/counter/);
    expect(errorOf({ secret: Buffer.alloc(9) })).toMatch(/80 bits/);
    expect(errorOf({ secret: Buffer.alloc(129) })).toMatch(/128 bytes/);
    expect(errorOf({ issuer: ' ', accountName: '' })).toMatch(/neither/);
  });

  it('keeps the period of TOTP and the counter of HOTP only', () => {
    expect(checkAccount({ ...raw, otpType: 'hotp', period: 60, counter: 5 })).toMatchObject({
      account: { period: null, counter: 5 },
    });
    expect(checkAccount({ ...raw, period: 60, counter: 5 })).toMatchObject({ account: { period: 60, counter: null } });
  });
});
