import { InvalidBase32Error, decodeBase32, encodeBase32 } from './base32.js';
import {
  type OtpAlgorithm,
  type OtpDigits,
  MAX_DIGITS,
  MAX_PERIOD,
  MIN_DIGITS,
  MIN_PERIOD,
  assertDigits,
  assertPeriod,
} from './otp-engine.js';

/**
 * Google Authenticator Key URI Format:
 * otpauth://TYPE/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
 */

export type OtpType = 'totp' | 'hotp';

export class InvalidOtpauthUriError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidOtpauthUriError';
  }
}

export interface BuildOtpauthUriParams {
  type: OtpType;
  issuer?: string;
  accountName: string;
  secret: Buffer;
  algorithm: OtpAlgorithm;
  digits: OtpDigits;
  /** TOTP only; defaults to 30. */
  period?: number;
  /** HOTP only, required: the counter of the next code the token will show. */
  counter?: number;
}

export interface ParsedOtpauthUri {
  type: OtpType;
  issuer?: string;
  accountName: string;
  secret: Buffer;
  algorithm: OtpAlgorithm;
  digits: OtpDigits;
  /** 30 unless given; meaningless for HOTP. */
  period: number;
  /** 0 for TOTP. */
  counter: number;
}

const DEFAULT_PERIOD = 30;
const ALGORITHM_PARAM: Record<OtpAlgorithm, string> = { sha1: 'SHA1', sha256: 'SHA256', sha512: 'SHA512' };
const KNOWN_PARAMS = ['secret', 'issuer', 'algorithm', 'digits', 'period', 'counter'];

export function buildOtpauthUri(params: BuildOtpauthUriParams): string {
  const { type, accountName, secret, algorithm, digits } = params;
  const issuer = params.issuer || undefined;
  if (type !== 'totp' && type !== 'hotp') throw new RangeError(`type must be totp or hotp, got "${String(type)}"`);
  if (!accountName) throw new RangeError('accountName must not be empty');
  if (!Buffer.isBuffer(secret) || secret.length === 0) throw new RangeError('secret must be a non-empty Buffer');
  if (!Object.hasOwn(ALGORITHM_PARAM, algorithm)) throw new RangeError(`unknown algorithm "${String(algorithm)}"`);
  assertDigits(digits);

  // encodeURIComponent (not URLSearchParams) so spaces become %20, which all apps read; '+' is ambiguous.
  const label = issuer
    ? `${encodeURIComponent(issuer)}:${encodeURIComponent(accountName)}`
    : encodeURIComponent(accountName);
  const query = [`secret=${encodeBase32(secret)}`];
  if (issuer) query.push(`issuer=${encodeURIComponent(issuer)}`);
  query.push(`algorithm=${ALGORITHM_PARAM[algorithm]}`, `digits=${digits}`);
  if (type === 'totp') {
    const period = params.period ?? DEFAULT_PERIOD;
    assertPeriod(period);
    query.push(`period=${period}`);
  } else {
    const { counter } = params;
    if (counter === undefined || !Number.isSafeInteger(counter) || counter < 0) {
      throw new RangeError(`hotp needs a non-negative integer counter, got ${counter}`);
    }
    query.push(`counter=${counter}`);
  }
  return `otpauth://${type}/${label}?${query.join('&')}`;
}

export function parseOtpauthUri(uri: string): ParsedOtpauthUri {
  const match = /^otpauth:\/\/([^/?#]*)\/([^?#]*)(?:\?([^#]*))?(?:#.*)?$/i.exec(uri);
  if (!match) throw new InvalidOtpauthUriError('not an otpauth:// URI of the form otpauth://TYPE/LABEL?PARAMETERS');
  const [, rawType = '', rawLabel = '', rawQuery = ''] = match;

  const type = rawType.toLowerCase();
  if (type !== 'totp' && type !== 'hotp') {
    throw new InvalidOtpauthUriError(`unknown OTP type "${rawType}" (expected totp or hotp)`);
  }

  // Query strings follow form encoding, so '+' means space there (URLSearchParams does that).
  const query = new URLSearchParams(rawQuery);
  for (const name of KNOWN_PARAMS) {
    if (query.getAll(name).length > 1) throw new InvalidOtpauthUriError(`parameter "${name}" appears more than once`);
  }
  const paramIssuer = query.get('issuer') || undefined;
  const { issuer: labelIssuer, accountName } = parseLabel(rawLabel, paramIssuer);
  if (labelIssuer !== undefined && paramIssuer !== undefined && labelIssuer !== paramIssuer) {
    throw new InvalidOtpauthUriError(`issuer mismatch: label says "${labelIssuer}", parameter says "${paramIssuer}"`);
  }

  const rawSecret = query.get('secret');
  if (!rawSecret) throw new InvalidOtpauthUriError('missing secret parameter');
  let secret: Buffer;
  try {
    secret = decodeBase32(rawSecret);
  } catch (err) {
    if (err instanceof InvalidBase32Error) throw new InvalidOtpauthUriError(`invalid secret: ${err.message}`);
    throw err;
  }
  if (secret.length === 0) throw new InvalidOtpauthUriError('invalid secret: it is empty');

  const rawAlgorithm = query.get('algorithm') ?? 'SHA1';
  const algorithm = (Object.keys(ALGORITHM_PARAM) as OtpAlgorithm[]).find(
    (a) => ALGORITHM_PARAM[a] === rawAlgorithm.toUpperCase(),
  );
  if (!algorithm) {
    throw new InvalidOtpauthUriError(`unsupported algorithm "${rawAlgorithm}" (expected SHA1, SHA256 or SHA512)`);
  }

  const digits = parseIntParam(query, 'digits', 6);
  if (digits < MIN_DIGITS || digits > MAX_DIGITS) {
    throw new InvalidOtpauthUriError(`digits must be from ${MIN_DIGITS} to ${MAX_DIGITS}, got ${digits}`);
  }
  const period = parseIntParam(query, 'period', DEFAULT_PERIOD);
  if (period < MIN_PERIOD || period > MAX_PERIOD) {
    throw new InvalidOtpauthUriError(`period must be from ${MIN_PERIOD} to ${MAX_PERIOD} seconds, got ${period}`);
  }
  let counter = 0;
  if (type === 'hotp') {
    if (!query.has('counter')) throw new InvalidOtpauthUriError('hotp URI is missing the counter parameter');
    counter = parseIntParam(query, 'counter', 0);
  }

  const issuer = labelIssuer ?? paramIssuer;
  return {
    type,
    ...(issuer !== undefined && { issuer }),
    accountName,
    secret,
    algorithm,
    digits: digits as OtpDigits,
    period,
    counter,
  };
}

function parseLabel(rawLabel: string, paramIssuer: string | undefined): { issuer?: string; accountName: string } {
  const decode = (part: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new InvalidOtpauthUriError('label contains an invalid percent-encoding');
    }
  };
  // A literal ':' separates issuer and account, so colons encoded as %3A inside either part survive.
  const colon = rawLabel.indexOf(':');
  let issuer: string | undefined;
  let accountName: string;
  if (colon >= 0) {
    issuer = decode(rawLabel.slice(0, colon)) || undefined;
    accountName = decode(rawLabel.slice(colon + 1));
  } else {
    accountName = decode(rawLabel);
    // Some generators encode the separator itself as %3A; recognise it when the issuer parameter confirms it.
    if (paramIssuer !== undefined && accountName.startsWith(`${paramIssuer}:`)) {
      issuer = paramIssuer;
      accountName = accountName.slice(paramIssuer.length + 1);
    }
  }
  accountName = accountName.replace(/^\s+/, ''); // the format allows spaces after the colon
  if (!accountName) throw new InvalidOtpauthUriError('label has no account name');
  return { ...(issuer !== undefined && { issuer }), accountName };
}

function parseIntParam(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(value)) {
    throw new InvalidOtpauthUriError(`${name} must be a non-negative integer, got "${raw}"`);
  }
  return value;
}
