import { createCipheriv, createDecipheriv, randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import { decodeBase32, InvalidBase32Error } from '#src/otp/base32.js';
import { checkAccount, ImportFormatError, type ItemOutcome } from './transfer-account.js';

/**
 * The passphrase-encrypted backup file (docs/backup-format.md): AES-256-GCM under a key
 * derived from the passphrase with scrypt, the parameters recorded in the file so it can be
 * read back with any scrypt and AES-GCM implementation.
 */

export const BACKUP_FORMAT = 'otp-service-backup';
export const BACKUP_VERSION = 1;
/** The cost of a new backup's key: 32 MiB of memory and about 0.1 s, as scrypt's authors advise for files. */
export const BACKUP_KDF = { N: 2 ** 15, r: 8, p: 1 } as const;
export const MIN_PASSPHRASE_LENGTH = 12;

/** The most memory (128·N·r bytes) and work (N·r·p) a backup read back may ask of scrypt: 2× and 4× a new one's. */
const MAX_KDF_MEMORY = 64 * 1024 * 1024;
const MAX_KDF_WORK = 4 * BACKUP_KDF.N * BACKUP_KDF.r * BACKUP_KDF.p;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface BackupFile {
  format: typeof BACKUP_FORMAT;
  version: typeof BACKUP_VERSION;
  created_at: string;
  kdf: { name: 'scrypt'; salt: string; N: number; r: number; p: number };
  cipher: { name: 'aes-256-gcm'; iv: string; tag: string };
  data: string;
}

/** One account in a backup's plaintext (the import route's account fields, plus is_active). */
export interface BackupAccount {
  name: string;
  otp_type: 'totp' | 'hotp';
  algorithm: 'sha1' | 'sha256' | 'sha512';
  digits: number;
  interval: number | null;
  counter: number | null;
  issuer: string | null;
  account_name: string | null;
  secret: string;
  is_active: boolean;
}

function deriveKey(
  passphrase: string,
  salt: Buffer,
  { N, r, p }: { N: number; r: number; p: number },
): Promise<Buffer> {
  const options: ScryptOptions = { N, r, p, maxmem: MAX_KDF_MEMORY + 1024 * 1024 };
  // The asynchronous form runs on libuv's pool, so a backup does not stall every other request.
  return new Promise((resolve, reject) =>
    scrypt(passphrase.normalize('NFC'), salt, KEY_BYTES, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export async function encryptBackup(accounts: BackupAccount[], passphrase: string, now: Date): Promise<BackupFile> {
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const key = await deriveKey(passphrase, salt, BACKUP_KDF);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(JSON.stringify(accounts), 'utf8'), cipher.final()]);
  return {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    created_at: now.toISOString(),
    kdf: { name: 'scrypt', salt: salt.toString('base64'), ...BACKUP_KDF },
    cipher: { name: 'aes-256-gcm', iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64') },
    data: data.toString('base64'),
  };
}

const malformed = (message: string): ImportFormatError =>
  new ImportFormatError('malformed', `Not an ${BACKUP_FORMAT} version ${BACKUP_VERSION} file: ${message}.`);

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function base64Field(value: unknown, name: string, bytes?: number): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw malformed(`${name} is not base64`);
  }
  const decoded = Buffer.from(value, 'base64');
  if (bytes !== undefined && decoded.length !== bytes) throw malformed(`${name} is not ${bytes} bytes`);
  return decoded;
}

function exactKeys(value: Json, keys: string[], name: string): void {
  const extra = Object.keys(value).filter((k) => !keys.includes(k));
  if (extra.length > 0) throw malformed(`${name} has unknown field "${extra[0]}"`);
}

/** The KDF parameters of a file, refused when they would cost far more than a backup this service writes. */
function kdfOf(kdf: unknown): { salt: Buffer; N: number; r: number; p: number } {
  if (!isObject(kdf) || kdf.name !== 'scrypt') throw malformed('kdf.name must be "scrypt"');
  exactKeys(kdf, ['name', 'salt', 'N', 'r', 'p'], 'kdf');
  const { N, r, p } = kdf;
  if (![N, r, p].every((v) => Number.isSafeInteger(v) && (v as number) > 0)) {
    throw malformed('kdf.N, kdf.r and kdf.p must be positive integers');
  }
  const [n, rr, pp] = [N as number, r as number, p as number];
  if (n < 2 || (n & (n - 1)) !== 0) throw malformed('kdf.N must be a power of two');
  if (128 * n * rr > MAX_KDF_MEMORY || n * rr * pp > MAX_KDF_WORK) {
    throw malformed('the scrypt parameters ask for more memory or work than this service allows');
  }
  return { salt: base64Field(kdf.salt, 'kdf.salt'), N: n, r: rr, p: pp };
}

/** The accounts of a backup file; a wrong passphrase or an altered file fails GCM's check. */
export async function decryptBackup(file: unknown, passphrase: string): Promise<unknown[]> {
  if (!isObject(file) || file.format !== BACKUP_FORMAT) throw malformed(`format must be "${BACKUP_FORMAT}"`);
  if (file.version !== BACKUP_VERSION) throw malformed(`version must be ${BACKUP_VERSION}`);
  exactKeys(file, ['format', 'version', 'created_at', 'kdf', 'cipher', 'data'], 'the file');
  const kdf = kdfOf(file.kdf);
  if (!isObject(file.cipher) || file.cipher.name !== 'aes-256-gcm') {
    throw malformed('cipher.name must be "aes-256-gcm"');
  }
  exactKeys(file.cipher, ['name', 'iv', 'tag'], 'cipher');
  const iv = base64Field(file.cipher.iv, 'cipher.iv', IV_BYTES);
  const tag = base64Field(file.cipher.tag, 'cipher.tag', TAG_BYTES);
  const data = base64Field(file.data, 'data');

  const key = await deriveKey(passphrase, kdf.salt, kdf);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(tag);
  let plaintext: string;
  try {
    plaintext = Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
  } catch {
    throw new ImportFormatError(
      'wrong-passphrase',
      'The backup cannot be decrypted: the passphrase is wrong, or the file was altered.',
    );
  }
  let accounts: unknown;
  try {
    accounts = JSON.parse(plaintext);
  } catch {
    throw malformed('the decrypted data is not JSON');
  }
  if (!Array.isArray(accounts)) throw malformed('the decrypted data is not a list of accounts');
  return accounts;
}

/** One account of a decrypted backup, checked like any imported account. */
export function readBackupAccount(value: unknown): ItemOutcome {
  if (!isObject(value)) return { error: 'the account is not an object' };
  const secret = typeof value.secret === 'string' ? value.secret : '';
  let bytes: Buffer;
  try {
    bytes = decodeBase32(secret);
  } catch (error) {
    if (error instanceof InvalidBase32Error) return { error: `invalid secret: ${error.message}` };
    throw error;
  }
  const optional = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return checkAccount({
    name: optional(value.name),
    otpType: optional(value.otp_type) ?? '',
    algorithm: optional(value.algorithm) ?? '',
    digits: typeof value.digits === 'number' ? value.digits : NaN,
    period: typeof value.interval === 'number' ? value.interval : undefined,
    counter: typeof value.counter === 'number' ? value.counter : undefined,
    issuer: optional(value.issuer),
    accountName: optional(value.account_name),
    secret: bytes,
    isActive: typeof value.is_active === 'boolean' ? value.is_active : true,
  });
}
