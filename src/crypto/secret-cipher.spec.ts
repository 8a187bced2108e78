import { describe, expect, it } from 'vitest';
import { SecretCipher, SecretDecryptionError, deriveKeyFromSecret, parseKeyRing } from './secret-cipher.js';

const keyA = Buffer.alloc(32, 0xa1);
const keyB = Buffer.alloc(32, 0xb2);
const ring = new Map([
  ['old', keyA],
  ['new', keyB],
]);

function flipByte(token: string, index: number): string {
  const [version, kid, body] = token.split('.') as [string, string, string];
  const payload = Buffer.from(body, 'base64url');
  payload[index] = payload[index]! ^ 0x01;
  return `${version}.${kid}.${payload.toString('base64url')}`;
}

function expectDecryptionError(fn: () => unknown, message: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(SecretDecryptionError);
  expect((caught as Error).message).toBe(message);
}

describe('SecretCipher', () => {
  it('round-trips a string and a buffer', () => {
    const cipher = new SecretCipher(ring, 'new');
    expect(cipher.decryptToString(cipher.encrypt('JBSWY3DPEHPK3PXP'))).toBe('JBSWY3DPEHPK3PXP');
    const bytes = Buffer.from([0, 1, 2, 255, 254]);
    expect(cipher.decrypt(cipher.encrypt(bytes)).equals(bytes)).toBe(true);
    expect(cipher.decrypt(cipher.encrypt(Buffer.alloc(0))).length).toBe(0);
  });

  it('produces a v1 token that names the active key id', () => {
    const token = new SecretCipher(ring, 'new').encrypt('secret');
    expect(token).toMatch(/^v1\.new\.[A-Za-z0-9_-]+$/);
  });

  it('gives different tokens for the same plaintext (random IV)', () => {
    const cipher = new SecretCipher(ring, 'new');
    expect(cipher.encrypt('same')).not.toBe(cipher.encrypt('same'));
  });

  it('decrypts a token made with a non-active key of the ring', () => {
    const token = new SecretCipher(ring, 'old').encrypt('legacy');
    const cipher = new SecretCipher(ring, 'new');
    expect(cipher.decryptToString(token)).toBe('legacy');
    expect(cipher.isEncryptedWithActiveKey(token)).toBe(false);
  });

  it('re-encryption moves a token to the active key', () => {
    const oldToken = new SecretCipher(ring, 'old').encrypt('rotate me');
    const cipher = new SecretCipher(ring, 'new');
    const newToken = cipher.reencrypt(oldToken);
    expect(cipher.isEncryptedWithActiveKey(newToken)).toBe(true);
    expect(newToken.startsWith('v1.new.')).toBe(true);
    // The new token no longer needs the old key.
    expect(new SecretCipher(new Map([['new', keyB]]), 'new').decryptToString(newToken)).toBe('rotate me');
  });

  it('reports false from isEncryptedWithActiveKey for a malformed token', () => {
    expect(new SecretCipher(ring, 'new').isEncryptedWithActiveKey('nonsense')).toBe(false);
  });

  it('refuses a token with any single byte flipped (IV, tag or ciphertext)', () => {
    const cipher = new SecretCipher(ring, 'new');
    const token = cipher.encrypt('sixteen byte txt');
    const payloadLength = Buffer.from(token.split('.')[2]!, 'base64url').length;
    expect(payloadLength).toBe(12 + 16 + 16);
    for (let i = 0; i < payloadLength; i++) {
      expectDecryptionError(
        () => cipher.decrypt(flipByte(token, i)),
        'authentication failed: ciphertext or key is wrong',
      );
    }
  });

  it('refuses a token whose key id was re-labelled to another ring key', () => {
    const cipher = new SecretCipher(ring, 'new');
    const relabelled = cipher.encrypt('bound to kid').replace(/^v1\.new\./, 'v1.old.');
    expectDecryptionError(() => cipher.decrypt(relabelled), 'authentication failed: ciphertext or key is wrong');
  });

  it('refuses a token encrypted under the same kid but a different key', () => {
    const token = new SecretCipher(new Map([['new', keyA]]), 'new').encrypt('x');
    expectDecryptionError(
      () => new SecretCipher(ring, 'new').decrypt(token),
      'authentication failed: ciphertext or key is wrong',
    );
  });

  it('names an unknown key id in the error', () => {
    const token = new SecretCipher(new Map([['gone', keyA]]), 'gone').encrypt('x');
    expectDecryptionError(() => new SecretCipher(ring, 'new').decrypt(token), 'unknown key id "gone"');
  });

  it.each([
    ['empty string', ''],
    ['two parts', 'v1.new'],
    ['four parts', 'v1.new.abc.def'],
    ['unknown version', 'v2.new.' + Buffer.alloc(40).toString('base64url')],
    ['invalid kid', 'v1.n@w.' + Buffer.alloc(40).toString('base64url')],
    ['non-base64url body', 'v1.new.abc+/='],
    ['payload shorter than iv+tag', 'v1.new.' + Buffer.alloc(27).toString('base64url')],
  ])('reports malformed ciphertext for %s', (_label, token) => {
    expectDecryptionError(() => new SecretCipher(ring, 'new').decrypt(token), 'malformed ciphertext');
  });

  it('rejects a missing active key id', () => {
    expect(() => new SecretCipher(ring, 'nope')).toThrow(/active key id "nope"/);
  });

  it('rejects a key that is not 32 bytes', () => {
    expect(() => new SecretCipher(new Map([['k1', Buffer.alloc(16)]]), 'k1')).toThrow(/exactly 32 bytes/);
  });

  it('rejects a key id that cannot appear in a token', () => {
    expect(() => new SecretCipher(new Map([['a.b', keyA]]), 'a.b')).toThrow(/key id "a.b"/);
  });

  it('is not affected by later mutation of the caller key buffer', () => {
    const key = Buffer.alloc(32, 7);
    const cipher = new SecretCipher(new Map([['k1', key]]), 'k1');
    const token = cipher.encrypt('stable');
    key.fill(0);
    expect(cipher.decryptToString(token)).toBe('stable');
  });
});

describe('deriveKeyFromSecret', () => {
  it('derives a deterministic 32-byte key usable by SecretCipher', () => {
    const key = deriveKeyFromSecret('a long random operator supplied string');
    expect(key.length).toBe(32);
    expect(key.equals(deriveKeyFromSecret('a long random operator supplied string'))).toBe(true);
    expect(key.equals(deriveKeyFromSecret('a long random operator supplied strinG'))).toBe(false);
    const cipher = new SecretCipher(new Map([['k1', key]]), 'k1');
    expect(cipher.decryptToString(cipher.encrypt('ok'))).toBe('ok');
  });

  it('refuses an empty secret', () => {
    expect(() => deriveKeyFromSecret('')).toThrow(/must not be empty/);
  });
});

describe('parseKeyRing', () => {
  it('parses id:secret pairs in order', () => {
    const parsed = parseKeyRing('k1:first-secret, k2_B-x:second:with:colons');
    expect([...parsed]).toEqual([
      ['k1', 'first-secret'],
      ['k2_B-x', 'second:with:colons'],
    ]);
  });

  it('treats a single bare secret as key id k1', () => {
    expect([...parseKeyRing('just-a-long-secret')]).toEqual([['k1', 'just-a-long-secret']]);
  });

  it('rejects an empty spec', () => {
    expect(() => parseKeyRing('')).toThrow('key ring entry 1 is empty');
  });

  it('rejects an empty entry', () => {
    expect(() => parseKeyRing('a:x,,b:y')).toThrow('key ring entry 2 is empty');
  });

  it('rejects a duplicate id', () => {
    expect(() => parseKeyRing('a:x,a:y')).toThrow('key ring entry 2: duplicate key id "a"');
  });

  it('rejects an entry without an id when there are several', () => {
    expect(() => parseKeyRing('a:x,bare')).toThrow('key ring entry 2 must have the form id:secret');
  });

  it('rejects an invalid id', () => {
    expect(() => parseKeyRing('bad id:x')).toThrow(/key id "bad id" must be 1-32 characters/);
    expect(() => parseKeyRing(`${'a'.repeat(33)}:x`)).toThrow(/must be 1-32 characters/);
    expect(() => parseKeyRing(':x')).toThrow(/key id "" must be 1-32 characters/);
  });

  it('rejects an empty secret', () => {
    expect(() => parseKeyRing('a:')).toThrow('key ring entry 1: secret for key id "a" is empty');
  });
});
