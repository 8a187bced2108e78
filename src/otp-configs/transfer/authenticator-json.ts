import { decodeBase32, InvalidBase32Error } from '#src/otp/base32.js';
import { checkAccount, ImportFormatError, type ItemOutcome } from './transfer-account.js';

/** The JSON exports of two authenticator apps, Aegis (plain vault) and 2FAuth, read into accounts. */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function parseJson(text: string, app: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ImportFormatError('malformed', `Not ${app} export: the file is not JSON.`);
  }
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
/** Numbers as the apps write them: JSON numbers, or digits in a string (2FAuth), or absent. */
function int(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return undefined;
}

function secretOf(value: unknown): Buffer | string {
  if (typeof value !== 'string' || !value) return 'the account has no secret';
  try {
    return decodeBase32(value);
  } catch (error) {
    if (error instanceof InvalidBase32Error) return `invalid secret: ${error.message}`;
    throw error;
  }
}

/** An Aegis vault export. An encrypted vault (key slots, or `db` a ciphertext string) is refused whole. */
export function readAegis(text: string): ItemOutcome[] {
  const vault = parseJson(text, 'an Aegis');
  if (!isObject(vault) || !isObject(vault.header) || vault.db === undefined) {
    throw new ImportFormatError('malformed', 'Not an Aegis export: expected {version, header, db}.');
  }
  if ((vault.header.slots !== null && vault.header.slots !== undefined) || typeof vault.db === 'string') {
    throw new ImportFormatError(
      'encrypted-vault',
      'Encrypted vault not supported: export the Aegis vault without encryption.',
    );
  }
  if (!isObject(vault.db) || !Array.isArray(vault.db.entries)) {
    throw new ImportFormatError('malformed', 'Not an Aegis export: db.entries is not a list.');
  }
  return vault.db.entries.map((entry: unknown): ItemOutcome => {
    if (!isObject(entry) || !isObject(entry.info)) return { error: 'the entry is not an object with info' };
    const type = str(entry.type) ?? '';
    if (type !== 'totp' && type !== 'hotp') return { error: `unsupported entry type "${type}"` };
    const secret = secretOf(entry.info.secret);
    if (typeof secret === 'string') return { error: secret };
    return checkAccount({
      otpType: type,
      algorithm: str(entry.info.algo) ?? 'SHA1',
      digits: int(entry.info.digits) ?? 6,
      period: int(entry.info.period),
      counter: int(entry.info.counter),
      issuer: str(entry.issuer),
      accountName: str(entry.name),
      secret,
    });
  });
}

/** A 2FAuth export: `{app: "2fauth_v…", datetime, data: [{otp_type, account, service, secret, …}]}`. */
export function readTwoFauth(text: string): ItemOutcome[] {
  const file = parseJson(text, 'a 2FAuth');
  if (!isObject(file) || !str(file.app)?.startsWith('2fauth') || !Array.isArray(file.data)) {
    throw new ImportFormatError('malformed', 'Not a 2FAuth export: expected {app: "2fauth_v…", data: [...]}.');
  }
  return file.data.map((item: unknown): ItemOutcome => {
    if (!isObject(item)) return { error: 'the item is not an object' };
    const type = str(item.otp_type) ?? '';
    if (type !== 'totp' && type !== 'hotp') return { error: `unsupported otp_type "${type}"` };
    const secret = secretOf(item.secret);
    if (typeof secret === 'string') return { error: secret };
    return checkAccount({
      otpType: type,
      algorithm: str(item.algorithm) ?? 'sha1',
      digits: int(item.digits) ?? 6,
      period: int(item.period),
      counter: int(item.counter),
      issuer: str(item.service),
      accountName: str(item.account),
      secret,
    });
  });
}
