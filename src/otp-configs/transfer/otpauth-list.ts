import { InvalidOtpauthUriError, parseOtpauthUri } from '#src/otp/otpauth-uri.js';
import { checkAccount, type ItemOutcome } from './transfer-account.js';

/** One otpauth:// URI as an account, or why it cannot be one. */
export function readOtpauthUri(uri: string): ItemOutcome {
  try {
    const parsed = parseOtpauthUri(uri.trim());
    return checkAccount({
      otpType: parsed.type,
      algorithm: parsed.algorithm,
      digits: parsed.digits,
      period: parsed.period,
      counter: parsed.counter,
      issuer: parsed.issuer,
      accountName: parsed.accountName,
      secret: parsed.secret,
    });
  } catch (error) {
    if (error instanceof InvalidOtpauthUriError) return { error: error.message };
    throw error;
  }
}

/** The lines of a text that hold something: a URI list keeps one per line; blank lines and `#` comments are skipped. */
export function meaningfulLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
