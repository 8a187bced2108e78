import { MAX_SUPPLIED_SECRET_BYTES, MIN_SUPPLIED_SECRET_BYTES } from '#src/otp/base32.js';
import {
  MAX_DIGITS,
  MAX_PERIOD,
  MIN_DIGITS,
  MIN_PERIOD,
  OTP_ALGORITHMS,
  type OtpAlgorithm,
  type OtpDigits,
} from '#src/otp/otp-engine.js';
import type { OtpType } from '#src/otp/otpauth-uri.js';

/** The longest name, issuer or account name a configuration keeps (the columns' bound). */
const MAX_LABEL = 100;
const DEFAULT_PERIOD = 30;

/** One account read from an export, in the service's terms, before it is stored. */
export interface TransferAccount {
  name: string;
  otpType: OtpType;
  algorithm: OtpAlgorithm;
  digits: OtpDigits;
  /** TOTP only. */
  period: number | null;
  /** HOTP only: the counter of the next code. */
  counter: number | null;
  issuer: string | null;
  accountName: string | null;
  secret: Buffer;
  isActive: boolean;
}

/** What one item of an export came to: an account, or why it cannot be imported. */
export type ItemOutcome = { account: TransferAccount } | { error: string };

/** An account as an export describes it, every field still to be checked. */
export interface RawAccount {
  /** The account's own name, when the export keeps one (this service's backup); else `Issuer:account`. */
  name?: string;
  otpType: string;
  algorithm: string;
  digits: number;
  period?: number;
  counter?: number;
  issuer?: string;
  accountName?: string;
  secret: Buffer;
  isActive?: boolean;
}

/**
 * An export that cannot be read: not what its format says (bad base64, JSON, protobuf or
 * shape), an encrypted vault this service cannot open, or a backup whose passphrase is wrong.
 */
export class ImportFormatError extends Error {
  constructor(
    readonly kind: 'malformed' | 'encrypted-vault' | 'wrong-passphrase',
    message: string,
  ) {
    super(message);
    this.name = 'ImportFormatError';
  }
}

const clip = (text: string | undefined): string | null => text?.trim().slice(0, MAX_LABEL) || null;

/**
 * Checks one account against what the service can compute, whichever export it came from;
 * names it `Issuer:account` as the otpauth label does, so an account imported twice (from a
 * URI list and a backup, say) is found to be a duplicate.
 */
export function checkAccount(raw: RawAccount): ItemOutcome {
  const otpType = raw.otpType.toLowerCase();
  if (otpType !== 'totp' && otpType !== 'hotp') return { error: `unsupported OTP type "${raw.otpType}"` };
  const algorithm = raw.algorithm.toLowerCase() as OtpAlgorithm;
  if (!OTP_ALGORITHMS.includes(algorithm)) {
    return { error: `unsupported algorithm "${raw.algorithm}" (expected SHA1, SHA256 or SHA512)` };
  }
  if (!Number.isInteger(raw.digits) || raw.digits < MIN_DIGITS || raw.digits > MAX_DIGITS) {
    return { error: `digits must be from ${MIN_DIGITS} to ${MAX_DIGITS}, got ${raw.digits}` };
  }
  const period = raw.period ?? DEFAULT_PERIOD;
  if (otpType === 'totp' && (!Number.isInteger(period) || period < MIN_PERIOD || period > MAX_PERIOD)) {
    return { error: `period must be from ${MIN_PERIOD} to ${MAX_PERIOD} seconds, got ${period}` };
  }
  const counter = raw.counter ?? 0;
  if (otpType === 'hotp' && (!Number.isSafeInteger(counter) || counter < 0)) {
    return { error: `the counter must be a non-negative integer, got ${counter}` };
  }
  if (raw.secret.length < MIN_SUPPLIED_SECRET_BYTES) return { error: 'The secret is shorter than 80 bits.' };
  if (raw.secret.length > MAX_SUPPLIED_SECRET_BYTES) {
    return { error: `The secret is longer than ${MAX_SUPPLIED_SECRET_BYTES} bytes.` };
  }
  const issuer = clip(raw.issuer);
  const accountName = clip(raw.accountName);
  const label = clip(raw.name) ?? (issuer && accountName ? `${issuer}:${accountName}` : (accountName ?? issuer));
  if (!label) return { error: 'the account has neither a name nor an issuer' };
  return {
    account: {
      name: label.slice(0, MAX_LABEL),
      otpType,
      algorithm,
      digits: raw.digits as OtpDigits,
      period: otpType === 'totp' ? period : null,
      counter: otpType === 'hotp' ? counter : null,
      issuer,
      accountName,
      secret: raw.secret,
      isActive: raw.isActive ?? true,
    },
  };
}
