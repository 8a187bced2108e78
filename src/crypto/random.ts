import { randomBytes as nodeRandomBytes } from 'node:crypto';

/** Minimum size of a generated secret: 128 bits, below which brute force becomes realistic. */
export const MIN_SECRET_BYTES = 16;

/** CSPRNG bytes (thin wrapper so callers never reach for Math.random). */
export function randomBytes(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`randomBytes: byte count must be a non-negative integer, got ${n}`);
  }
  return nodeRandomBytes(n);
}

/** A fresh random secret (e.g. an OTP seed); refuses sizes under 128 bits. */
export function randomSecret(bytes: number): Buffer {
  if (!Number.isSafeInteger(bytes) || bytes < MIN_SECRET_BYTES) {
    throw new RangeError(`randomSecret: a secret needs at least ${MIN_SECRET_BYTES} bytes, got ${bytes}`);
  }
  return nodeRandomBytes(bytes);
}

/** An opaque random token, base64url without padding (URL and header safe). */
export function randomToken(bytes = 32): string {
  return randomSecret(bytes).toString('base64url');
}
