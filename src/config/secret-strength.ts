/** Shortest secret accepted anywhere (characters). */
export const MIN_SECRET_LENGTH = 32;
/** Least estimated entropy a production secret must show (bits). */
export const MIN_SECRET_BITS = 128;

const ADVICE = 'use 32 random bytes, e.g. `openssl rand -base64 32`';

/**
 * Why a configured secret is too weak, or null when it is acceptable. Always: at least
 * MIN_SECRET_LENGTH characters. With `entropy` (production): not one character repeated,
 * not a shorter pattern repeated, and at least MIN_SECRET_BITS by its character frequencies.
 * The answer never quotes the secret.
 */
export function secretWeakness(secret: string, options: { entropy: boolean } = { entropy: true }): string | null {
  if (secret.length < MIN_SECRET_LENGTH) {
    return `is too weak: use at least ${MIN_SECRET_LENGTH} random characters`;
  }
  if (!options.entropy) return null;
  const symbols = [...secret];
  const period = shortestPeriod(symbols);
  if (period === 1) return `is too weak: one character repeated (${ADVICE})`;
  if (period <= symbols.length / 2) return `is too weak: a ${period}-character pattern repeated (${ADVICE})`;
  const bits = estimatedEntropyBits(secret);
  if (bits < MIN_SECRET_BITS) {
    return `is too weak: about ${Math.floor(bits)} bits of entropy, at least ${MIN_SECRET_BITS} needed (${ADVICE})`;
  }
  return null;
}

/**
 * Entropy estimated from the character frequencies (empirical Shannon entropy × length).
 * It cannot see words or sequences, only skew: random base64 of 32 bytes scores ~210 bits,
 * 32 random hex characters (exactly 128 bits) score ~116, so hex secrets need 64 characters.
 */
export function estimatedEntropyBits(secret: string): number {
  const symbols = [...secret];
  const counts = new Map<string, number>();
  for (const symbol of symbols) counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
  let perSymbol = 0;
  for (const count of counts.values()) {
    const p = count / symbols.length;
    perSymbol -= p * Math.log2(p);
  }
  return perSymbol * symbols.length;
}

/** The length of the shortest pattern whose repetition makes up the string (prefix function). */
function shortestPeriod(symbols: readonly string[]): number {
  const border = new Array<number>(symbols.length).fill(0);
  for (let i = 1; i < symbols.length; i++) {
    let k = border[i - 1];
    while (k > 0 && symbols[i] !== symbols[k]) k = border[k - 1];
    if (symbols[i] === symbols[k]) k++;
    border[i] = k;
  }
  return symbols.length - (border[symbols.length - 1] ?? 0);
}
