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

/** Every stable error code the service answers with, for the OpenAPI document. */
export const ERROR_CODES: Record<string, string> = {
  VALIDATION_FAILED: 'The request body, query or path failed validation; `errors` lists the fields.',
  MALFORMED_JSON: 'The body is not valid JSON.',
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
