import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyRingMismatchError, unreadableColumns } from './key-ring-check.js';
import { SecretCipher } from './secret-cipher.js';

const cipherWith = (id: string): SecretCipher => new SecretCipher(new Map([[id, randomBytes(32)]]), id);

describe(unreadableColumns.name, () => {
  const ring = cipherWith('k1');
  const other = cipherWith('k1'); // same key id, another key
  const unknown = cipherWith('k9');
  const good = ring.encrypt('secret');

  it('passes a column without rows and one where some sampled token decrypts', () => {
    expect(
      unreadableColumns(ring, [
        { table: 'users', column: 'mfa_secret', tokens: [] },
        { table: 'otp_configs', column: 'secret', tokens: [other.encrypt('x'), good, 'damaged'] },
      ]),
    ).toEqual([]);
  });

  it('names each column whose sampled tokens all fail: another key, an unknown key id, or damage', () => {
    expect(
      unreadableColumns(ring, [
        { table: 'users', column: 'mfa_secret', tokens: [other.encrypt('x')] },
        { table: 'usage_keys', column: 'secret', tokens: [good] },
        { table: 'otp_configs', column: 'secret', tokens: [unknown.encrypt('y'), 'v1.k1.damaged'] },
      ]),
    ).toEqual(['users.mfa_secret', 'otp_configs.secret']);
  });
});

describe(KeyRingMismatchError.name, () => {
  it('names ENCRYPTION_KEYS, the columns and, outside production, the development secrets file', () => {
    const error = new KeyRingMismatchError(['otp_configs.secret'], '/srv/data', true);
    expect(error.variable).toBe('ENCRYPTION_KEYS');
    expect(error.message).toMatch(
      /^ENCRYPTION_KEYS: no key in the ring decrypts the secrets stored in otp_configs\.secret/,
    );
    expect(error.message).toContain('/srv/data/secrets.json (DATA_DIR=/srv/data)');
    expect(new KeyRingMismatchError(['users.mfa_secret'], '/srv/data', false).message).not.toContain('secrets.json');
  });
});
