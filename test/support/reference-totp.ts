import { createHmac } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * RFC 6238 written out from the RFCs with node:crypto only, independent of src/otp, so a
 * test can check the service's codes against arithmetic it does not share.
 */
export function referenceTotp(
  base32Secret: string,
  unixSeconds: number,
  { digits = 6, algorithm = 'sha1', period = 30 }: { digits?: number; algorithm?: string; period?: number } = {},
): string {
  // RFC 4648 §6: 5 bits per character, most significant first; padding ignored.
  let bits = '';
  for (const char of base32Secret.replace(/=+$/, '').toUpperCase()) {
    bits += BASE32.indexOf(char).toString(2).padStart(5, '0');
  }
  const secret = Buffer.from(bits.match(/.{8}/g)!.map((byte) => parseInt(byte, 2)));
  // RFC 6238 §4.2: T = floor(unix time / period), as an 8-byte big-endian counter (RFC 4226 §5.2).
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / period)));
  const hmac = createHmac(algorithm, secret).update(counter).digest();
  // RFC 4226 §5.3: dynamic truncation.
  const offset = hmac[hmac.length - 1] & 0x0f;
  const binary = hmac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}
