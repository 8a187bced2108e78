/**
 * Writes Google Authenticator's MigrationPayload protobuf from its schema, so tests build
 * `otpauth-migration://` exports of their own instead of copying bytes from a phone:
 *   message MigrationPayload { repeated OtpParameters otp_parameters = 1; int32 version = 2;
 *                              int32 batch_size = 3; int32 batch_index = 4; int32 batch_id = 5; }
 *   message OtpParameters { bytes secret = 1; string name = 2; string issuer = 3; Algorithm algorithm = 4;
 *                           DigitCount digits = 5; OtpType type = 6; int64 counter = 7; }
 */

export const ALGORITHM = { unspecified: 0, sha1: 1, sha256: 2, sha512: 3, md5: 4 } as const;
export const DIGIT_COUNT = { six: 1, eight: 2 } as const;
export const OTP_TYPE = { hotp: 1, totp: 2 } as const;

export interface MigrationAccount {
  secret: Buffer;
  name: string;
  issuer?: string;
  algorithm: number;
  digits: number;
  type: number;
  counter?: number;
}

function varint(value: number | bigint): Buffer {
  let v = BigInt(value);
  const bytes: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    bytes.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return Buffer.from(bytes);
}

const key = (field: number, wireType: 0 | 2): Buffer => varint((field << 3) | wireType);
const varintField = (field: number, value: number): Buffer => Buffer.concat([key(field, 0), varint(value)]);
const bytesField = (field: number, value: Buffer): Buffer =>
  Buffer.concat([key(field, 2), varint(value.length), value]);

export function encodeOtpParameters(account: MigrationAccount): Buffer {
  return Buffer.concat([
    bytesField(1, account.secret),
    bytesField(2, Buffer.from(account.name, 'utf8')),
    ...(account.issuer ? [bytesField(3, Buffer.from(account.issuer, 'utf8'))] : []),
    varintField(4, account.algorithm),
    varintField(5, account.digits),
    varintField(6, account.type),
    ...(account.counter !== undefined ? [varintField(7, account.counter)] : []),
  ]);
}

export function encodeMigrationPayload(accounts: MigrationAccount[], batch = { size: 1, index: 0, id: 1 }): Buffer {
  return Buffer.concat([
    ...accounts.map((account) => bytesField(1, encodeOtpParameters(account))),
    varintField(2, 1),
    varintField(3, batch.size),
    varintField(4, batch.index),
    varintField(5, batch.id),
  ]);
}

/** The URI the phone shows as a QR code: the payload base64, percent-encoded. */
export const migrationUri = (payload: Buffer): string =>
  `otpauth-migration://offline?data=${encodeURIComponent(payload.toString('base64'))}`;
