import { createHash } from 'node:crypto';
import { randomToken } from '#src/crypto/random.js';

/** Every issued key starts with this, so people and scanners recognise it. */
export const API_KEY_PREFIX = 'otpk_';

export interface GeneratedApiKey {
  /** The whole key, shown once. */
  key: string;
  /** Its visible, unique start: `otpk_` plus 8 characters. */
  prefix: string;
  hash: string;
}

/** 256 random bits, base64url; the first 8 characters double as the visible prefix. */
export function generateApiKey(): GeneratedApiKey {
  const secret = randomToken(32);
  const key = `${API_KEY_PREFIX}${secret}`;
  return { key, prefix: key.slice(0, API_KEY_PREFIX.length + 8), hash: hashApiKey(key) };
}

/** Keys are long random strings, so a fast hash suffices (no password stretching needed). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
