import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  decryptBackup,
  encryptBackup,
  readBackupAccount,
  type BackupAccount,
  type BackupFile,
} from './encrypted-backup.js';
import { ImportFormatError } from './transfer-account.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const PASSPHRASE = 'café au lait, twice';
const accounts: BackupAccount[] = [
  {
    name: 'GitHub',
    otp_type: 'totp',
    algorithm: 'sha256',
    digits: 8,
    interval: 60,
    counter: null,
    issuer: 'GitHub',
    account_name: 'alice@example.com',
    secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
    is_active: false,
  },
  {
    name: 'Door',
    otp_type: 'hotp',
    algorithm: 'sha1',
    digits: 6,
    interval: null,
    counter: 12,
    issuer: null,
    account_name: null,
    secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
    is_active: true,
  },
];

async function kindOf(read: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await read();
  } catch (error) {
    if (error instanceof ImportFormatError) return error.kind;
    throw error;
  }
  return undefined;
}

/** The fenced code block of `language` in docs/backup-format.md. */
function documented(language: string): string {
  const text = readFileSync(new URL('../../../docs/backup-format.md', import.meta.url), 'utf8');
  const block = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(text);
  if (!block) throw new Error(`no ${language} block in docs/backup-format.md`);
  return block[1]!;
}

describe('encrypted backup', () => {
  it('writes the documented envelope and reads its accounts back with the passphrase', async () => {
    const file = await encryptBackup(accounts, PASSPHRASE, NOW);
    expect(file).toMatchObject({
      format: 'otp-service-backup',
      version: 1,
      created_at: NOW.toISOString(),
      kdf: { name: 'scrypt', N: 32768, r: 8, p: 1 },
      cipher: { name: 'aes-256-gcm' },
    });
    expect(Buffer.from(file.kdf.salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(file.cipher.iv, 'base64')).toHaveLength(12);
    expect(JSON.stringify(file)).not.toContain(accounts[0]!.secret);
    // The same passphrase typed with a combining accent (NFD) opens it too.
    expect(await decryptBackup(file, PASSPHRASE.normalize('NFD'))).toEqual(accounts);
  });

  it('refuses a wrong passphrase and an altered file alike', async () => {
    const file = await encryptBackup(accounts, PASSPHRASE, NOW);
    expect(await kindOf(() => decryptBackup(file, 'café au lait, once'))).toBe('wrong-passphrase');
    const data = Buffer.from(file.data, 'base64');
    data[data.length - 1]! ^= 0x80;
    expect(await kindOf(() => decryptBackup({ ...file, data: data.toString('base64') }, PASSPHRASE))).toBe(
      'wrong-passphrase',
    );
    const salt = Buffer.from(file.kdf.salt, 'base64');
    salt[0]! ^= 1;
    const otherSalt = { ...file, kdf: { ...file.kdf, salt: salt.toString('base64') } };
    expect(await kindOf(() => decryptBackup(otherSalt, PASSPHRASE))).toBe('wrong-passphrase');
  });

  it('refuses a file of another shape, and scrypt parameters costlier than allowed', async () => {
    const file = await encryptBackup(accounts, PASSPHRASE, NOW);
    const variants: unknown[] = [
      null,
      [],
      { ...file, format: 'other' },
      { ...file, version: 2 },
      { ...file, extra: 1 },
      { ...file, kdf: { ...file.kdf, name: 'pbkdf2' } },
      { ...file, kdf: { ...file.kdf, N: 30000 } },
      { ...file, kdf: { ...file.kdf, N: 2 ** 20 } },
      { ...file, kdf: { ...file.kdf, p: 16 } },
      { ...file, kdf: { ...file.kdf, r: 0 } },
      { ...file, kdf: { ...file.kdf, salt: 'not base64!' } },
      { ...file, cipher: { ...file.cipher, name: 'aes-128-cbc' } },
      { ...file, cipher: { ...file.cipher, iv: Buffer.alloc(16).toString('base64') } },
      { ...file, cipher: { ...file.cipher, tag: Buffer.alloc(8).toString('base64') } },
      { ...file, data: 42 },
    ];
    for (const variant of variants) {
      expect(await kindOf(() => decryptBackup(variant, PASSPHRASE)), JSON.stringify(variant)).toBe('malformed');
    }
  });

  it('reads each account as an import item, reporting a broken one', () => {
    expect(readBackupAccount(accounts[0])).toMatchObject({
      account: { name: 'GitHub', algorithm: 'sha256', digits: 8, period: 60, isActive: false },
    });
    expect(readBackupAccount(accounts[1])).toMatchObject({ account: { name: 'Door', counter: 12, issuer: null } });
    expect(readBackupAccount({ ...accounts[0], secret: '***' })).toEqual({ error: expect.stringMatching(/secret/) });
    expect(readBackupAccount({ ...accounts[0], digits: '8' })).toEqual({ error: expect.stringMatching(/digits/) });
    expect(readBackupAccount('x')).toEqual({ error: 'the account is not an object' });
  });

  describe('as docs/backup-format.md says to read it', () => {
    const write = async (): Promise<{ path: string; file: BackupFile }> => {
      const file = await encryptBackup(accounts, PASSPHRASE, NOW);
      const path = join(mkdtempSync(join(tmpdir(), 'backup-')), 'backup.json');
      writeFileSync(path, JSON.stringify(file));
      return { path, file };
    };

    it('decrypts with the Python snippet (cryptography and hashlib)', async () => {
      const { path } = await write();
      const run = spawnSync('/usr/bin/python3', ['-', path, PASSPHRASE], {
        input: documented('python'),
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('');
      expect(run.stdout.trim().split('\n')).toEqual([
        `GitHub totp ${accounts[0]!.secret}`,
        `Door hotp ${accounts[1]!.secret}`,
      ]);
    });

    it('decrypts with the Node.js snippet (node:crypto)', async () => {
      const { path } = await write();
      const module = join(mkdtempSync(join(tmpdir(), 'reader-')), 'read-backup.mjs');
      writeFileSync(module, documented('js'));
      const { readBackup } = (await import(pathToFileURL(module).href)) as {
        readBackup: (path: string, passphrase: string) => unknown;
      };
      expect(readBackup(path, PASSPHRASE)).toEqual(accounts);
      expect(() => readBackup(path, 'wrong passphrase')).toThrow();
    });
  });
});
