import { createGuardrails } from 'otplib';
import { generateSync as otplibHotp, verifySync as otplibVerifyHotp } from '@otplib/hotp';
import { crypto as nodeCrypto } from '@otplib/plugin-crypto-node';
import { constantTimeEqual } from '../crypto/compare.js';
import { MAX_SUPPLIED_SECRET_BYTES, MIN_SUPPLIED_SECRET_BYTES } from './base32.js';

/**
 * HOTP (RFC 4226) and TOTP (RFC 6238) over otplib 13, synchronously, with Node's
 * crypto (@otplib/plugin-crypto-node: OpenSSL HMAC, faster than the default pure-JS one).
 *
 * The service's own rules stay here around otplib: the window bounds, the replay step,
 * which step matched (drift) and the two-code resynchronisation. Parameters are checked
 * here first (digits 6 to 8, the algorithms, periods and secret sizes the service
 * allows), so otplib only sees values it accepts and user input never makes it throw.
 *
 * Time is always passed in as `now` (Unix ms) so callers own the clock.
 */

export type OtpAlgorithm = 'sha1' | 'sha256' | 'sha512';
export type OtpDigits = 6 | 7 | 8;

export const OTP_ALGORITHMS: readonly OtpAlgorithm[] = ['sha1', 'sha256', 'sha512'];
export const MIN_DIGITS = 6;
export const MAX_DIGITS = 8;
export const MIN_PERIOD = 10;
export const MAX_PERIOD = 300;
/** Caps on search sizes so a request cannot make us compute thousands of HMACs. */
export const MAX_TOTP_WINDOW = 10;
export const MAX_LOOK_AHEAD = 1000;

/** otplib's counter limit (its MAX_COUNTER guardrail cannot go higher). */
const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

/**
 * otplib's limits set to the service's: its default minimum secret is 16 bytes, but
 * 80-bit (10-byte) secrets such as JBSWY3DPEHPK3PXP are in real use and must keep
 * working; supplied secrets may be up to 128 bytes (its default maximum is 64); and an
 * HOTP check may try MAX_LOOK_AHEAD counters past the expected one.
 */
const GUARDRAILS = createGuardrails({
  MIN_SECRET_BYTES: MIN_SUPPLIED_SECRET_BYTES,
  MAX_SECRET_BYTES: MAX_SUPPLIED_SECRET_BYTES,
  MAX_WINDOW: MAX_LOOK_AHEAD + 1,
});

export function assertAlgorithm(algorithm: string): asserts algorithm is OtpAlgorithm {
  if (!(OTP_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new RangeError(`algorithm must be one of ${OTP_ALGORITHMS.join(', ')}, got "${algorithm}"`);
  }
}

export function assertDigits(digits: number): asserts digits is OtpDigits {
  if (!Number.isInteger(digits) || digits < MIN_DIGITS || digits > MAX_DIGITS) {
    throw new RangeError(`digits must be an integer from ${MIN_DIGITS} to ${MAX_DIGITS}, got ${digits}`);
  }
}

export function assertPeriod(period: number): void {
  if (!Number.isInteger(period) || period < MIN_PERIOD || period > MAX_PERIOD) {
    throw new RangeError(`period must be an integer from ${MIN_PERIOD} to ${MAX_PERIOD} seconds, got ${period}`);
  }
}

function assertSecret(secret: Buffer): void {
  if (!Buffer.isBuffer(secret) || secret.length === 0) {
    throw new RangeError('secret must be a non-empty Buffer');
  }
  if (secret.length < MIN_SUPPLIED_SECRET_BYTES || secret.length > MAX_SUPPLIED_SECRET_BYTES) {
    throw new RangeError(
      `secret must be from ${MIN_SUPPLIED_SECRET_BYTES} to ${MAX_SUPPLIED_SECRET_BYTES} bytes, got ${secret.length}`,
    );
  }
}

function assertNow(now: number): void {
  if (!Number.isFinite(now) || now < 0) {
    throw new RangeError(`now must be a non-negative Unix time in milliseconds, got ${now}`);
  }
}

function assertCount(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer from 0 to ${max}, got ${value}`);
  }
}

function assertCounter(counter: number): void {
  if (!Number.isSafeInteger(counter) || counter < 0) {
    throw new RangeError(`counter must be a non-negative safe integer, got ${counter}`);
  }
}

/** otplib's HOTP for parameters already checked; the secret goes in as bytes (a string would be read as base32). */
function otp(secret: Buffer, counter: number, algorithm: OtpAlgorithm, digits: OtpDigits): string {
  return otplibHotp({ secret, counter, algorithm, digits, crypto: nodeCrypto, guardrails: GUARDRAILS });
}

/** RFC 4226 §5.3: HMAC the 8-byte counter, dynamically truncate, reduce mod 10^digits. */
export function hotpCode(secret: Buffer, counter: bigint | number, algorithm: OtpAlgorithm, digits: OtpDigits): string {
  assertSecret(secret);
  assertAlgorithm(algorithm);
  assertDigits(digits);
  const inRange =
    typeof counter === 'bigint'
      ? counter >= 0n && counter <= BigInt(MAX_COUNTER)
      : Number.isSafeInteger(counter) && counter >= 0;
  if (!inRange) {
    throw new RangeError(`counter must be an integer from 0 to 2^53-1, got ${counter}`);
  }
  return otp(secret, Number(counter), algorithm, digits);
}

export function totpStep(now: number, period: number): number {
  assertNow(now);
  assertPeriod(period);
  // Whole seconds first: same as floor(now/1000/period) but immune to float rounding.
  return Math.floor(Math.floor(now / 1000) / period);
}

export interface TotpParams {
  secret: Buffer;
  algorithm: OtpAlgorithm;
  digits: OtpDigits;
  period: number;
  now: number;
}

export interface TotpCode {
  code: string;
  step: number;
  /** Seconds until the code rolls over, 1..period. */
  remainingSeconds: number;
}

export function generateTotp({ secret, algorithm, digits, period, now }: TotpParams): TotpCode {
  const step = totpStep(now, period);
  return {
    code: hotpCode(secret, step, algorithm, digits),
    step,
    remainingSeconds: period - (Math.floor(now / 1000) % period),
  };
}

export interface VerifyTotpParams extends TotpParams {
  code: string;
  /** Steps accepted either side of the current one (clock drift). */
  window?: number;
  /** Last step already accepted for this secret; it and earlier steps are replays. */
  afterStep?: number | null;
}

export type VerifyTotpResult =
  { valid: true; step: number; drift: number } | { valid: false; reason: 'mismatch' | 'replay' };

function isWellFormedCode(code: unknown, digits: number): code is string {
  // ASCII digits only (\d without the u flag), exact length; never throw on user input.
  return typeof code === 'string' && code.length === digits && /^\d+$/.test(code);
}

export function verifyTotp(params: VerifyTotpParams): VerifyTotpResult {
  const { secret, algorithm, digits, period, code, now, window = 1, afterStep = null } = params;
  assertCount('window', window, MAX_TOTP_WINDOW);
  const current = totpStep(now, period);
  assertSecret(secret);
  assertAlgorithm(algorithm);
  assertDigits(digits);
  if (!isWellFormedCode(code, digits)) return { valid: false, reason: 'mismatch' };

  // Check every step of the window (no early exit) and prefer the match closest to now.
  let fresh: number | null = null;
  let replayed = false;
  for (let step = Math.max(0, current - window); step <= current + window; step++) {
    if (!constantTimeEqual(otp(secret, step, algorithm, digits), code)) continue;
    if (afterStep !== null && step <= afterStep) {
      replayed = true; // RFC 6238 §5.2: a code must not be accepted twice
    } else if (fresh === null || Math.abs(step - current) < Math.abs(fresh - current)) {
      fresh = step;
    }
  }
  if (fresh !== null) return { valid: true, step: fresh, drift: fresh - current };
  return { valid: false, reason: replayed ? 'replay' : 'mismatch' };
}

export interface HotpParams {
  secret: Buffer;
  algorithm: OtpAlgorithm;
  digits: OtpDigits;
  counter: number;
}

export function generateHotp({ secret, algorithm, digits, counter }: HotpParams): string {
  assertCounter(counter);
  return hotpCode(secret, counter, algorithm, digits);
}

export interface VerifyHotpParams extends HotpParams {
  code: string;
  /** How many counters past `counter` to try (token presses the server did not see). */
  lookAhead?: number;
}

export type VerifyHotpResult = { valid: true; matchedCounter: number; nextCounter: number } | { valid: false };

/** Searches counter..counter+lookAhead; the caller must persist nextCounter so codes are single-use. */
export function verifyHotp({
  secret,
  algorithm,
  digits,
  code,
  counter,
  lookAhead = 10,
}: VerifyHotpParams): VerifyHotpResult {
  assertCounter(counter);
  assertCount('lookAhead', lookAhead, MAX_LOOK_AHEAD);
  assertSecret(secret);
  assertAlgorithm(algorithm);
  assertDigits(digits);
  if (!isWellFormedCode(code, digits)) return { valid: false };
  // otplib tries counter, counter+1, ... counter+lookAhead and answers the first match as delta.
  const result = otplibVerifyHotp({
    secret,
    algorithm,
    digits,
    counter,
    token: code,
    counterTolerance: [0, lookAhead],
    crypto: nodeCrypto,
    guardrails: GUARDRAILS,
  });
  if (!result.valid) return { valid: false };
  const matchedCounter = counter + result.delta;
  return { valid: true, matchedCounter, nextCounter: matchedCounter + 1 };
}

export interface ResyncHotpParams extends HotpParams {
  codes: readonly [string, string];
  lookAhead?: number;
}

export type ResyncHotpResult = { valid: true; nextCounter: number } | { valid: false };

/**
 * RFC 4226 §7.4 resynchronisation: the user supplies two consecutive codes, which
 * must match counters c and c+1, both within counter..counter+lookAhead. A wider
 * window than verifyHotp is safe here because two codes in a row are required.
 */
export function resyncHotp({
  secret,
  algorithm,
  digits,
  codes,
  counter,
  lookAhead = 100,
}: ResyncHotpParams): ResyncHotpResult {
  assertCounter(counter);
  assertCount('lookAhead', lookAhead, MAX_LOOK_AHEAD);
  assertSecret(secret);
  assertAlgorithm(algorithm);
  assertDigits(digits);
  const [first, second] = codes;
  if (!isWellFormedCode(first, digits) || !isWellFormedCode(second, digits)) return { valid: false };
  let previousMatched = false;
  for (let c = counter; c <= counter + lookAhead; c++) {
    const candidate = otp(secret, c, algorithm, digits);
    if (previousMatched && constantTimeEqual(candidate, second)) {
      return { valid: true, nextCounter: c + 1 };
    }
    previousMatched = constantTimeEqual(candidate, first);
  }
  return { valid: false };
}

/** Secret size matching the HMAC output length, as RFC 4226/6238 recommend. */
export function defaultSecretBytes(algorithm: OtpAlgorithm): number {
  assertAlgorithm(algorithm);
  return { sha1: 20, sha256: 32, sha512: 64 }[algorithm];
}
