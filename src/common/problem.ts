import { HttpException, HttpStatus } from '@nestjs/common';

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

/** Codes for errors raised by the framework rather than by a module. */
export const STATUS_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  500: 'INTERNAL_ERROR',
  503: 'SERVICE_UNAVAILABLE',
};

/** A stored secret the key ring cannot decrypt (answered wherever a secret is read). */
export const SECRET_UNREADABLE = {
  code: 'SECRET_UNREADABLE',
  detail:
    'The secret stored for this resource cannot be decrypted with the key ring (ENCRYPTION_KEYS). ' +
    'An operator must add the key it was encrypted with to ENCRYPTION_KEYS; otherwise replace the secret ' +
    '(delete and recreate the resource).',
} as const;

/** Every stable error code the service answers with, for the OpenAPI document. */
export const ERROR_CODES: Record<string, string> = {
  VALIDATION_FAILED: 'The request body, query or path failed validation; `errors` lists the fields.',
  MALFORMED_JSON: 'The body is not valid JSON.',
  [SECRET_UNREADABLE.code]:
    'A stored secret cannot be decrypted with the configured ENCRYPTION_KEYS (409): restore its key, or replace the secret.',
  ...Object.fromEntries(
    Object.values(STATUS_CODES).map((code) => [code, `HTTP ${code.toLowerCase().replaceAll('_', ' ')}.`]),
  ),
};
