import { checkAccount, ImportFormatError, type ItemOutcome } from './transfer-account.js';

/**
 * Google Authenticator's "Transfer accounts" export: `otpauth-migration://offline?data=…`, the
 * data a base64 protobuf MigrationPayload. The schema is fixed and small (two messages, eight
 * scalar fields), so a protobuf reader of ~50 lines reads it; a protobuf library would add a
 * schema compiler and a dependency for that.
 *
 *   message MigrationPayload { repeated OtpParameters otp_parameters = 1; int32 version = 2;
 *                              int32 batch_size = 3; int32 batch_index = 4; int32 batch_id = 5; }
 *   message OtpParameters { bytes secret = 1; string name = 2; string issuer = 3;
 *                           Algorithm algorithm = 4; DigitCount digits = 5; OtpType type = 6; int64 counter = 7; }
 */

const ALGORITHMS: Record<number, string> = { 0: 'sha1', 1: 'sha1', 2: 'sha256', 3: 'sha512', 4: 'md5' };
const DIGITS: Record<number, number> = { 0: 6, 1: 6, 2: 8 };
const TYPES: Record<number, string> = { 1: 'hotp', 2: 'totp' };

const invalid = (message: string): ImportFormatError =>
  new ImportFormatError('malformed', `Not a Google Authenticator export: ${message}.`);

/** One field of a protobuf message: a varint's value, or a length-delimited field's bytes. */
type Field = { number: number; varint: bigint } | { number: number; bytes: Buffer };

/** The fields of one protobuf message, in order; fixed-width fields (no such in this schema) are skipped. */
function readMessage(buffer: Buffer): Field[] {
  const fields: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= buffer.length) throw invalid('the payload ends inside a number');
      const byte = buffer[at++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw invalid('a number in the payload is longer than 10 bytes');
  };
  const skip = (length: number): void => {
    if (at + length > buffer.length) throw invalid('a field runs past the end of the payload');
    at += length;
  };
  while (at < buffer.length) {
    const key = varint();
    const number = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (number === 0) throw invalid('a field has number 0');
    if (wireType === 0) {
      fields.push({ number, varint: varint() });
    } else if (wireType === 2) {
      const length = Number(varint());
      const start = at;
      skip(length);
      fields.push({ number, bytes: buffer.subarray(start, at) });
    } else if (wireType === 1) {
      skip(8);
    } else if (wireType === 5) {
      skip(4);
    } else {
      throw invalid(`unsupported wire type ${wireType}`);
    }
  }
  return fields;
}

/** The data parameter of a migration URI, as bytes; '+' in it is base64, not a form-encoded space. */
function payloadOf(uri: string): Buffer {
  const match = /^otpauth-migration:\/\/offline\?(.*)$/is.exec(uri.trim());
  if (!match) throw invalid('expected otpauth-migration://offline?data=…');
  const raw = match[1]!
    .split('&')
    .find((pair) => pair.startsWith('data='))
    ?.slice(5);
  if (!raw) throw invalid('the URI has no data parameter');
  let data: string;
  try {
    data = decodeURIComponent(raw);
  } catch {
    throw invalid('the data parameter is not validly percent-encoded');
  }
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(data)) throw invalid('the data parameter is not base64');
  return Buffer.from(data.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
}

const text = (field: Field | undefined): string | undefined =>
  field && 'bytes' in field ? field.bytes.toString('utf8') : undefined;
const number = (field: Field | undefined): bigint => (field && 'varint' in field ? field.varint : 0n);

/** One OtpParameters message, as an account or the reason it cannot be one. */
function readAccount(bytes: Buffer): ItemOutcome {
  const fields = new Map<number, Field>(readMessage(bytes).map((f) => [f.number, f]));
  const secretField = fields.get(1);
  if (!secretField || !('bytes' in secretField)) return { error: 'the account has no secret' };
  const algorithm = ALGORITHMS[Number(number(fields.get(4)))];
  if (!algorithm) return { error: `unknown algorithm ${number(fields.get(4))}` };
  if (algorithm === 'md5') return { error: 'unsupported algorithm "MD5" (expected SHA1, SHA256 or SHA512)' };
  const digits = DIGITS[Number(number(fields.get(5)))];
  if (!digits) return { error: `unknown digit count ${number(fields.get(5))}` };
  const type = TYPES[Number(number(fields.get(6)))];
  if (!type) return { error: `unknown OTP type ${number(fields.get(6))}` };
  const counter = number(fields.get(7));
  if (counter > BigInt(Number.MAX_SAFE_INTEGER)) return { error: 'the counter is out of range' };
  const issuer = text(fields.get(3)) || undefined;
  // The name is often the whole otpauth label, "Issuer:account".
  let accountName = text(fields.get(2)) ?? '';
  if (issuer && accountName.startsWith(`${issuer}:`)) accountName = accountName.slice(issuer.length + 1);
  return checkAccount({
    otpType: type,
    algorithm,
    digits,
    counter: Number(counter),
    issuer,
    accountName: accountName.trim(),
    secret: Buffer.from(secretField.bytes),
  });
}

/** The accounts of one `otpauth-migration://` URI, one outcome each, in order. */
export function readGoogleMigration(uri: string): ItemOutcome[] {
  const payload = readMessage(payloadOf(uri));
  const accounts = payload.filter((f): f is Field & { bytes: Buffer } => f.number === 1 && 'bytes' in f);
  if (accounts.length === 0) throw invalid('the payload holds no accounts');
  return accounts.map((f) => readAccount(f.bytes));
}
