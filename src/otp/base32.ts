/** RFC 4648 base32 (the alphabet authenticator apps use for secrets). */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const LOOKUP = new Map([...ALPHABET].map((char, index) => [char, index]));
// Unpadded lengths mod 8 that a whole number of bytes can produce (0, 1, 2, 3, 4 bytes in the last block).
const VALID_REMAINDERS = new Set([0, 2, 4, 5, 7]);

export class InvalidBase32Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidBase32Error';
  }
}

/** Uppercase, unpadded: the form Google's Key URI Format expects. */
export function encodeBase32(buf: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1; // keep only the unconsumed bits so value never overflows
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/**
 * Lenient on presentation (case, spaces, dashes, trailing `=` padding) because
 * people type secrets by hand in groups like "jbsw y3dp ..."; strict on content.
 */
export function decodeBase32(text: string): Buffer {
  const compact = text.replace(/[\s-]/g, '').toUpperCase();
  const data = compact.replace(/=+$/, '');
  const padding = compact.length - data.length;
  if (padding > 0 && (compact.length % 8 !== 0 || padding > 6)) {
    throw new InvalidBase32Error(`invalid base32: bad padding (${padding} "=" for ${data.length} characters)`);
  }
  if (!VALID_REMAINDERS.has(data.length % 8)) {
    throw new InvalidBase32Error(`invalid base32: length ${data.length} cannot encode a whole number of bytes`);
  }
  const out = Buffer.alloc(Math.floor((data.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let index = 0;
  for (const char of data) {
    const digit = LOOKUP.get(char);
    if (digit === undefined) {
      throw new InvalidBase32Error(`invalid base32: unexpected character "${char}"`);
    }
    value = ((value << 5) | digit) & 0xfff; // 12 bits are enough: at most 7 pending + 5 new
    bits += 5;
    if (bits >= 8) {
      out[index++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return out;
}

/** Real services issue 80-bit secrets (16 base32 characters); anything shorter is refused. */
export const MIN_SUPPLIED_SECRET_BYTES = 10;
/** Far above any HMAC block in use (SHA-512 keys are 64 bytes): a bound on what is stored. */
export const MAX_SUPPLIED_SECRET_BYTES = 128;

/** Why a supplied base32 secret is unacceptable (as a phrase after the field name), or null when it is fine. */
export function base32SecretProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a base32 string';
  if (value.length > 2 * MAX_SUPPLIED_SECRET_BYTES * 8) {
    return `must carry at most ${MAX_SUPPLIED_SECRET_BYTES * 8} bits`;
  }
  let bytes: Buffer;
  try {
    bytes = decodeBase32(value);
  } catch (error) {
    if (!(error instanceof InvalidBase32Error)) throw error;
    return `must be base32 (${error.message.replace(/^invalid base32: /, '')})`;
  }
  if (bytes.length < MIN_SUPPLIED_SECRET_BYTES) return 'must carry at least 80 bits (16 base32 characters)';
  if (bytes.length > MAX_SUPPLIED_SECRET_BYTES) return `must carry at most ${MAX_SUPPLIED_SECRET_BYTES * 8} bits`;
  return null;
}
