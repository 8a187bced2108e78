import { hmacSha256, sha256Hex } from '#src/crypto/hash.js';

/** The device TOTP: HMAC-SHA1 over the raw derived key bytes, 6 digits, 30 s (RFC 6238 as written). */
export const DEVICE_TOTP = { algorithm: 'sha1', digits: 6, period: 30 } as const;

/**
 * A device's key: `HMAC-SHA256(master_secret[version], client_id + ':' + device_id)`.
 *
 * A re-key must change the key even when the master secret version stays the same, so
 * from the first re-key on the input carries the device's key generation:
 * `client_id + ':' + device_id + ':' + generation`. Generation 0 (a device never re-keyed)
 * keeps the plain input, so a client that derives keys itself computes the same bytes.
 */
export function deriveDeviceKey(masterSecret: Buffer, clientId: string, deviceId: string, generation = 0): Buffer {
  if (!Number.isSafeInteger(generation) || generation < 0) {
    throw new RangeError(`generation must be a non-negative integer, got ${generation}`);
  }
  const input = generation === 0 ? `${clientId}:${deviceId}` : `${clientId}:${deviceId}:${generation}`;
  return hmacSha256(masterSecret, input);
}

/** What is stored instead of the key: its SHA-256, hex. */
export function hashDeviceKey(key: Buffer): string {
  return sha256Hex(key);
}
