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

/** Codes for errors raised by the framework rather than by a module. */
export const STATUS_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
  500: 'INTERNAL_ERROR',
  503: 'SERVICE_UNAVAILABLE',
};

/** Every stable error code the service answers with, for the OpenAPI document. */
export const ERROR_CODES: Record<string, string> = {
  VALIDATION_FAILED: 'The request body, query or path failed validation; `errors` lists the fields.',
  MALFORMED_JSON: 'The body is not valid JSON.',
  BODY_TOO_COMPLEX:
    'The body, query or path holds an object with too many keys, an array with too many items, or nests too deeply; `limit` names the limit.',
  INVALID_CHARACTERS: 'A string (or a field name) contains a NUL character or an unpaired UTF-16 surrogate.',
  STEP_UP_REQUIRED: 'The route reveals or replaces a secret: confirm the password first (POST auth/step-up).',
  STEP_UP_FAILED: 'The step-up password or MFA code is wrong (counts towards the login lockout).',
  MFA_CODE_REQUIRED: 'MFA is on for the account: the step-up needs `mfa_code`.',
  ACCOUNT_LOCKED: 'Too many failed sign-ins or password checks: locked for a while (423, with Retry-After).',
  DATABASE_UNAVAILABLE: 'The database cannot be reached right now (503); retry after the `Retry-After` seconds.',
  ACCESS_RULE_MISSING: 'The route declares no access rule (a server fault): it is closed to every caller.',
  ...Object.fromEntries(
    Object.values(STATUS_CODES).map((code) => [code, `HTTP ${code.toLowerCase().replaceAll('_', ' ')}.`]),
  ),
};
