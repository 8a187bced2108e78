import { describe, expect, it } from 'vitest';
import { readAegis, readTwoFauth } from './authenticator-json.js';
import { ImportFormatError } from './transfer-account.js';

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

const kindOf = (read: () => unknown): string | undefined => {
  try {
    read();
  } catch (error) {
    if (error instanceof ImportFormatError) return error.kind;
    throw error;
  }
  return undefined;
};

const aegis = (entries: unknown[], header: object = { slots: null, params: null }): string =>
  JSON.stringify({ version: 1, header, db: { version: 3, entries } });

describe('readAegis', () => {
  it('reads TOTP and HOTP entries with their parameters', () => {
    const [totp, hotp] = readAegis(
      aegis([
        {
          type: 'totp',
          name: 'a@b.c',
          issuer: 'Mail',
          info: { secret: SECRET, algo: 'SHA256', digits: 7, period: 45 },
        },
        { type: 'hotp', name: 'vpn', issuer: '', info: { secret: SECRET, algo: 'SHA1', digits: 6, counter: 9 } },
      ]),
    );
    expect(totp).toMatchObject({
      account: { name: 'Mail:a@b.c', otpType: 'totp', algorithm: 'sha256', digits: 7, period: 45, issuer: 'Mail' },
    });
    expect(hotp).toMatchObject({ account: { name: 'vpn', otpType: 'hotp', counter: 9, issuer: null } });
  });

  it('reports Steam, a missing secret and bad base32 per entry', () => {
    const outcomes = readAegis(
      aegis([
        { type: 'steam', name: 's', info: { secret: SECRET, algo: 'SHA1', digits: 5, period: 30 } },
        { type: 'totp', name: 'x', info: { algo: 'SHA1', digits: 6, period: 30 } },
        { type: 'totp', name: 'y', info: { secret: '1!', algo: 'SHA1', digits: 6, period: 30 } },
        'nonsense',
      ]),
    );
    expect(outcomes.map((o) => ('error' in o ? o.error : 'ok'))).toEqual([
      'unsupported entry type "steam"',
      'the account has no secret',
      expect.stringMatching(/^invalid secret/),
      'the entry is not an object with info',
    ]);
  });

  it('refuses an encrypted vault, by its key slots or its ciphertext db', () => {
    expect(kindOf(() => readAegis(aegis([], { slots: [{ type: 1 }], params: { nonce: 'aa', tag: 'bb' } })))).toBe(
      'encrypted-vault',
    );
    const ciphertextDb = JSON.stringify({ version: 1, header: { slots: null, params: null }, db: 'AAAA' });
    expect(kindOf(() => readAegis(ciphertextDb))).toBe('encrypted-vault');
  });

  it('refuses what is not an Aegis vault', () => {
    for (const text of ['', '{', 'null', '[]', '{"header":{}}', '{"header":{"slots":null},"db":{}}']) {
      expect(
        kindOf(() => readAegis(text)),
        text,
      ).toBe('malformed');
    }
  });
});

describe('readTwoFauth', () => {
  it('reads accounts, digits and counters written as strings too', () => {
    const [hotp] = readTwoFauth(
      JSON.stringify({
        app: '2fauth_v5.4.1',
        datetime: '2026-02-27T10:00:00Z',
        data: [
          {
            otp_type: 'hotp',
            account: 'me',
            service: 'Door',
            secret: SECRET,
            algorithm: 'sha512',
            digits: '8',
            counter: '4',
          },
        ],
      }),
    );
    expect(hotp).toMatchObject({
      account: { name: 'Door:me', otpType: 'hotp', algorithm: 'sha512', digits: 8, counter: 4, accountName: 'me' },
    });
  });

  it('refuses a file of another app', () => {
    expect(kindOf(() => readTwoFauth(JSON.stringify({ app: 'aegis', data: [] })))).toBe('malformed');
    expect(kindOf(() => readTwoFauth(JSON.stringify({ app: '2fauth_v5', data: {} })))).toBe('malformed');
  });
});
