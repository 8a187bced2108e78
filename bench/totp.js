// RFC 4226 / 6238 codes and base32, written out here so the bench checks any service
// independently of the code it measures; plus the picker that hands every request a code
// no earlier request used (a verify that is a real acceptance, never a replay).
import { createHmac, randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** HOTP over raw key bytes: SHA-1, 6 digits unless told otherwise. */
export function hotp(key, counter, { algorithm = 'sha1', digits = 6 } = {}) {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const hmac = createHmac(algorithm, key).update(message).digest();
  const offset = hmac[hmac.length - 1] & 0x0f;
  return String((hmac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits).padStart(digits, '0');
}

/** The TOTP step of a moment (ms), 30 s unless told otherwise. */
export const totpStep = (atMs, period = 30) => Math.floor(Math.floor(atMs / 1000) / period);

/** The TOTP code of a step. */
export const totpAt = (key, step, options) => hotp(key, step, options);

export function base32Encode(bytes) {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return bits > 0 ? out + ALPHABET[(value << (5 - bits)) & 31] : out;
}

/** A fresh 160-bit secret, as raw bytes and as base32 (what an authenticator app imports). */
export function newSecret() {
  const key = randomBytes(20);
  return { key, base32: base32Encode(key) };
}

/**
 * Hands out (item, code) pairs so that each TOTP step of each item is presented once, oldest
 * accepted step first: a service with a window of `window` steps either side accepts every
 * one of them. Items are taken in turn; an item whose window is used up is skipped until the
 * clock moves on. When every item is used up the next pair repeats a step (a replay, which
 * the service refuses): `exhausted` counts those, so the run can say it needs more items.
 */
export function freshTotpPicker(keys, { period = 30, window = 1, now = Date.now } = {}) {
  const nextStep = new Array(keys.length).fill(-Infinity);
  let cursor = 0;
  const picker = {
    exhausted: 0,
    next() {
      const current = totpStep(now(), period);
      for (let tried = 0; tried < keys.length; tried++) {
        const i = cursor;
        cursor = (cursor + 1) % keys.length;
        const step = Math.max(nextStep[i], current - window);
        if (step > current + window) continue;
        nextStep[i] = step + 1;
        return { index: i, code: totpAt(keys[i], step), drift: step - current };
      }
      picker.exhausted++;
      const i = cursor;
      cursor = (cursor + 1) % keys.length;
      return { index: i, code: totpAt(keys[i], current), drift: 0 };
    },
  };
  return picker;
}
