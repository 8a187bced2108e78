import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM encryption of secrets at rest, with a key ring for rotation.
 *
 * Token format: `v1.<kid>.<base64url(iv[12] | tag[16] | ciphertext)>`.
 * The `v1.<kid>` prefix is authenticated as AAD, so relabelling a token with
 * another key id (or another format version) makes decryption fail.
 */

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12; // the GCM-native nonce size
const TAG_BYTES = 16;
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+$/;

export type SecretDecryptionFailure = 'unknown-key' | 'malformed' | 'authentication';

export class SecretDecryptionError extends Error {
  constructor(
    message: string,
    readonly reason: SecretDecryptionFailure,
  ) {
    super(message);
    this.name = 'SecretDecryptionError';
  }
}

interface ParsedToken {
  kid: string;
  aad: Buffer;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

export class SecretCipher {
  private readonly keys: ReadonlyMap<string, Buffer>;

  constructor(
    keys: ReadonlyMap<string, Buffer>,
    readonly activeKeyId: string,
  ) {
    const copy = new Map<string, Buffer>();
    for (const [kid, key] of keys) {
      if (!KEY_ID_PATTERN.test(kid)) {
        throw new Error(`SecretCipher: key id "${kid}" must match ${KEY_ID_PATTERN.source}`);
      }
      if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
        throw new Error(`SecretCipher: key "${kid}" must be exactly ${KEY_BYTES} bytes`);
      }
      // Private copy: later mutation of the caller's buffers cannot change our keys.
      copy.set(kid, Buffer.from(key));
    }
    if (!copy.has(activeKeyId)) {
      throw new Error(`SecretCipher: active key id "${activeKeyId}" is not in the key ring`);
    }
    this.keys = copy;
  }

  encrypt(plaintext: Buffer | string): string {
    const key = this.keys.get(this.activeKeyId) as Buffer;
    const prefix = `${VERSION}.${this.activeKeyId}`;
    const iv = randomBytes(IV_BYTES); // fresh per message: GCM must never reuse (key, iv)
    const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(prefix, 'utf8'));
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    const payload = Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
    return `${prefix}.${payload.toString('base64url')}`;
  }

  decrypt(token: string): Buffer {
    const parsed = parseToken(token);
    const key = this.keys.get(parsed.kid);
    if (!key) {
      throw new SecretDecryptionError(`unknown key id "${parsed.kid}"`, 'unknown-key');
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, key, parsed.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(parsed.aad);
      decipher.setAuthTag(parsed.tag);
      return Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]);
    } catch {
      // final() throws on a bad tag; never hand back unauthenticated plaintext.
      throw new SecretDecryptionError('authentication failed: ciphertext or key is wrong', 'authentication');
    }
  }

  decryptToString(token: string): string {
    return this.decrypt(token).toString('utf8');
  }

  /** True when the token is labelled with the active key (header check only, no decryption). */
  isEncryptedWithActiveKey(token: string): boolean {
    try {
      return parseToken(token).kid === this.activeKeyId;
    } catch {
      return false;
    }
  }

  /** Decrypts with whichever ring key the token names and encrypts again with the active key. */
  reencrypt(token: string): string {
    return this.encrypt(this.decrypt(token));
  }
}

function parseToken(token: string): ParsedToken {
  const malformed = (): SecretDecryptionError => new SecretDecryptionError('malformed ciphertext', 'malformed');
  if (typeof token !== 'string') throw malformed();
  const parts = token.split('.');
  if (parts.length !== 3) throw malformed();
  const [version, kid, body] = parts as [string, string, string];
  if (version !== VERSION || !KEY_ID_PATTERN.test(kid) || !BASE64URL_PATTERN.test(body)) throw malformed();
  const payload = Buffer.from(body, 'base64url');
  // Node decodes base64url leniently; insist on the canonical form we produce.
  if (payload.length < IV_BYTES + TAG_BYTES || payload.toString('base64url') !== body) throw malformed();
  return {
    kid,
    aad: Buffer.from(`${version}.${kid}`, 'utf8'),
    iv: payload.subarray(0, IV_BYTES),
    tag: payload.subarray(IV_BYTES, IV_BYTES + TAG_BYTES),
    ciphertext: payload.subarray(IV_BYTES + TAG_BYTES),
  };
}

/**
 * Stretches an operator-supplied string into a 32-byte AES key (HKDF-SHA256).
 * The fixed salt/info give domain separation; the input must already carry
 * enough entropy (a long random string), HKDF is not a password hash.
 */
export function deriveKeyFromSecret(secret: string): Buffer {
  if (secret.length === 0) {
    throw new Error('deriveKeyFromSecret: secret must not be empty');
  }
  return Buffer.from(
    hkdfSync('sha256', secret, 'otp-service/encryption-key/salt', 'otp-service/encryption-key', KEY_BYTES),
  );
}

/**
 * Parses `id1:secret1,id2:secret2` (or a single bare `secret`, which gets id `k1`)
 * into an id → secret map, preserving order. Whitespace around entries is ignored.
 */
export function parseKeyRing(spec: string): Map<string, string> {
  const entries = spec.split(',').map((entry) => entry.trim());
  const ring = new Map<string, string>();
  if (entries.length === 1 && entries[0] !== '' && !entries[0]!.includes(':')) {
    ring.set('k1', entries[0]!);
    return ring;
  }
  entries.forEach((entry, index) => {
    const where = `key ring entry ${index + 1}`;
    if (entry === '') throw new Error(`${where} is empty`);
    const colon = entry.indexOf(':');
    if (colon < 0) throw new Error(`${where} must have the form id:secret`);
    const id = entry.slice(0, colon).trim();
    const secret = entry.slice(colon + 1).trim();
    if (!KEY_ID_PATTERN.test(id)) {
      throw new Error(`${where}: key id "${id}" must be 1-32 characters of A-Z, a-z, 0-9, _ or -`);
    }
    if (secret === '') throw new Error(`${where}: secret for key id "${id}" is empty`);
    if (ring.has(id)) throw new Error(`${where}: duplicate key id "${id}"`);
    ring.set(id, secret);
  });
  return ring;
}
