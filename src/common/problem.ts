import { HttpException, HttpStatus } from '@nestjs/common';
import { STATUS_CODES as HTTP_TITLES } from 'node:http';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** A field that failed validation, as listed in a 400 problem. */
export interface FieldError {
  field: string;
  messages: string[];
}

/** RFC 9457 problem details, plus the stable `code` clients branch on and the request id. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/**
 * The error every module throws: an HTTP status, a stable machine code and a message
 * safe to show. `extensions` become extra members of the problem (e.g. `usage_info`).
 */
export class ProblemException extends HttpException {
  constructor(
    status: HttpStatus,
    readonly code: string,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail, status);
  }
}

/** The URI that identifies a problem type; stable per code. */
export function problemType(code: string): string {
  return `urn:problem-type:otp-service:${code.toLowerCase().replaceAll('_', '-')}`;
}

/** A problem details object; `extensions` become extra members. */
export function problemDetails(
  status: number,
  code: string,
  detail: string,
  requestId: string,
  extensions: Record<string, unknown> = {},
): ProblemDetails {
  return {
    type: problemType(code),
    title: HTTP_TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    requestId,
    ...extensions,
  };
}

/**
 * Codes for errors raised by the framework rather than by a module, by status: only the
 * statuses it raises here (an unknown route, Fastify's body checks, a guard that says no,
 * an unexpected error). Any other status would answer `HTTP_<status>`.
 */
export const STATUS_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  500: 'INTERNAL_ERROR',
};

/** A stored secret the key ring cannot decrypt (answered wherever a secret is read). */
export const SECRET_UNREADABLE = {
  code: 'SECRET_UNREADABLE',
  detail:
    'The secret stored for this resource cannot be decrypted with the key ring (ENCRYPTION_KEYS). ' +
    'An operator must add the key it was encrypted with to ENCRYPTION_KEYS; otherwise replace the secret ' +
    '(delete and recreate the resource).',
} as const;

/**
 * Every stable error code the service answers with, rendered into the OpenAPI document.
 * test/openapi-contract.e2e-spec.ts reads the source: a code thrown but missing here, or
 * listed here but never thrown, fails it.
 */
export const ERROR_CODES: Record<string, string> = {
  // Requests
  VALIDATION_FAILED: 'The request body, query or path failed validation; `errors` lists the fields.',
  MALFORMED_JSON: 'The body is not valid JSON.',
  BAD_REQUEST: 'The request is malformed (a wrong Content-Length, a path not validly percent-encoded, not HTTP).',
  PAYLOAD_TOO_LARGE: 'The body is larger than BODY_LIMIT.',
  UNSUPPORTED_MEDIA_TYPE: 'The body is not JSON.',
  NOT_FOUND: 'No such route (or metrics are not enabled).',
  RATE_LIMITED: 'Too many requests, or too many refused ones from this address (429, with Retry-After).',
  INTERNAL_ERROR: 'An unexpected error (500); the request id is in the logs.',
  DATABASE_UNAVAILABLE: 'The database cannot be reached right now (503); retry after the `Retry-After` seconds.',
  // Authentication (401) and access (403)
  AUTHENTICATION_REQUIRED: 'The route needs credentials and none were sent.',
  INVALID_TOKEN: 'The access token is not valid, or its session has ended.',
  TOKEN_EXPIRED: 'The access token has expired: refresh it.',
  INVALID_API_KEY: 'The API key is unknown, revoked or expired.',
  API_KEY_NOT_ACCEPTED: 'The route is for signed-in users; an API key was sent.',
  API_KEY_REQUIRED: 'The route is for API keys; an access token was sent.',
  INVALID_CREDENTIALS: 'Sign-in refused: wrong username, password or MFA code, or a disabled account.',
  INVALID_REFRESH_TOKEN: 'The refresh token is unknown, expired, already used or revoked: sign in again.',
  METRICS_TOKEN_REQUIRED: 'GET /metrics needs the metrics token as a bearer token.',
  INSUFFICIENT_ROLE: 'The route is for administrators.',
  INSUFFICIENT_SCOPE: 'The API key lacks a scope the route needs.',
  PASSWORD_CHANGE_REQUIRED: 'Change the password first (POST auth/change-password).',
  FORBIDDEN: 'The caller may not do this.',
  ACCESS_RULE_MISSING: 'The route declares no access rule (a server fault): it is closed to every caller.',
  BODY_TOO_COMPLEX:
    'The body, query or path holds an object with too many keys, an array with too many items, or nests too deeply; `limit` names the limit.',
  INVALID_CHARACTERS: 'A string (or a field name) contains a NUL character or an unpaired UTF-16 surrogate.',
  URI_TOO_LONG: 'A path segment is longer than 256 characters (414).',
  REQUEST_TIMEOUT: 'The request (headers and body) did not arrive within REQUEST_TIMEOUT_MS (408).',
  HEADERS_TOO_LARGE: 'The request headers are larger than 16 KiB (431).',
  STEP_UP_REQUIRED: 'The route reveals or replaces a secret: confirm the password first (POST auth/step-up).',
  // Account, password and MFA
  STEP_UP_FAILED: 'The step-up password or MFA code is wrong (counts towards the login lockout).',
  MFA_CODE_REQUIRED:
    "MFA is on for the account: the step-up (or the replaced microservice's `/token`, answering 401) needs `mfa_code`.",
  INVALID_PASSWORD: 'The current password is wrong (counts towards the login lockout).',
  PASSWORD_REUSED: 'The new password is the current one.',
  INVALID_MFA_CODE: 'The MFA code is not valid.',
  MFA_ALREADY_ENABLED: 'MFA is already on.',
  MFA_NOT_STARTED: 'Start MFA enrolment first (POST auth/mfa/enable).',
  MFA_NOT_ENABLED: 'MFA is not on.',
  ACCOUNT_LOCKED: 'Too many failed sign-ins or password checks: locked for a while (423, with Retry-After).',
  SESSION_NOT_FOUND: 'No such session of yours.',
  // Users
  USER_NOT_FOUND: 'No such user.',
  USERNAME_TAKEN: 'The username is taken.',
  EMAIL_TAKEN: 'The e-mail address is already registered.',
  SELF_LOCKOUT: 'Administrators cannot demote, disable or delete themselves.',
  // API keys
  API_KEY_NOT_FOUND: 'No such API key.',
  API_KEY_REVOKED: 'A revoked API key cannot be rotated.',
  // OTP configurations
  CONFIG_NOT_FOUND: 'No such OTP configuration.',
  CONFIG_NAME_TAKEN: 'You already have an OTP configuration with that name.',
  CONFIG_INACTIVE: 'The OTP configuration is deactivated.',
  HOTP_ONLY: 'Resynchronisation applies to HOTP configurations only.',
  TOTP_ONLY: 'Live codes exist for TOTP configurations only.',
  RESYNC_FAILED: 'The codes are not two consecutive valid codes.',
  VALIDATION_LOCKED: 'Too many failed validations: the configuration is locked for a while (423, with Retry-After).',
  IMPORT_FORMAT_INVALID:
    'The export is not what its format says (bad base64, JSON, protobuf or shape); `detail` says what.',
  ENCRYPTED_VAULT_UNSUPPORTED: 'Encrypted vault not supported: export the Aegis vault without encryption.',
  QR_UNREADABLE: 'The image is not a PNG, or no QR code can be read in it.',
  BACKUP_DECRYPTION_FAILED: 'The backup cannot be decrypted: the passphrase is wrong, or the file was altered.',
  // Usage-limited keys
  KEY_NOT_FOUND: 'No key of that name in your space.',
  KEY_EXISTS: 'A key of that name already exists in your space.',
  KEY_EXPIRED: 'The key has expired (409, with `key`, `expires_at` and `usage_info`).',
  KEY_DEPLETED: 'The key has no uses left (409, with `key` and `usage_info`).',
  IMPORT_TOO_LARGE: 'The import holds more keys (or accounts) than allowed.',
  // Devices
  DEVICE_NOT_FOUND: 'No such device.',
  DEVICE_EXISTS: 'The client already has a device with this device_id.',
  DEVICE_INACTIVE: 'Reactivate the device first.',
  DEVICE_LOCKED: 'Too many failed verifications: the device is locked for a while (423, with Retry-After).',
  DEVICE_REKEY_REQUIRED: "The master secret the device's key was derived from is gone: re-key the device.",
  SECRET_UNREADABLE:
    'A stored secret cannot be decrypted with the configured ENCRYPTION_KEYS (409): restore its key, or replace the secret.',
};
