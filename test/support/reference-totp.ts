import { createHmac } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 §6: 5 bits per character, most significant first; padding ignored. */
export function base32Bytes(base32: string): Buffer {
  let bits = '';
  for (const char of base32.replace(/=+$/, '').toUpperCase()) {
    bits += BASE32.indexOf(char).toString(2).padStart(5, '0');
  }
  return Buffer.from(bits.match(/.{8}/g)!.map((byte) => parseInt(byte, 2)));
}

/**
 * RFC 4226 written out from the RFC with node:crypto only, independent of src/otp, so a test
 * can check the service's codes against arithmetic it does not share.
 */
export function referenceHotp(
  key: Buffer,
  counter: number,
  { digits = 6, algorithm = 'sha1' }: { digits?: number; algorithm?: string } = {},
): string {
  // §5.2: the counter as an 8-byte big-endian value.
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const hmac = createHmac(algorithm, key).update(message).digest();
  // §5.3: dynamic truncation.
  const offset = hmac[hmac.length - 1] & 0x0f;
  const binary = hmac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** RFC 6238 over a base32 secret: the HOTP of T = floor(unix time / period). */
export function referenceTotp(
  base32Secret: string,
  unixSeconds: number,
  { digits = 6, algorithm = 'sha1', period = 30 }: { digits?: number; algorithm?: string; period?: number } = {},
): string {
  return referenceHotp(base32Bytes(base32Secret), Math.floor(unixSeconds / period), { digits, algorithm });
}
