import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time equality for secrets such as OTP codes or tokens.
 * Both sides are hashed with SHA-256 first: the digests always have the same
 * length, so timingSafeEqual never throws and the input length does not leak.
 */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const bufA = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
  const bufB = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  const digestA = createHash('sha256').update(bufA).digest();
  const digestB = createHash('sha256').update(bufB).digest();
  // The length check is only reached after the constant-time work; it guards the
  // (astronomically unlikely) case of a SHA-256 collision between different lengths.
  return timingSafeEqual(digestA, digestB) && bufA.length === bufB.length;
}
