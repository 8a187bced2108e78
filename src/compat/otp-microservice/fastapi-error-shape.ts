import type { CompatErrorAnswer } from '#src/compat/compat-error-shapes.js';
import type { ProblemDetails } from '#src/common/problem.js';

/** FastAPI's answer to a request that fails validation: 422 with one entry per failed check. */
interface FastApiValidationError {
  loc: Array<string | number>;
  msg: string;
  type: string;
}

/**
 * The replaced system's words for the refusals its clients recognise (FastAPI's own for
 * missing or bad bearer tokens); every other refusal keeps the service's detail.
 */
const DETAILS: Record<string, { status?: number; detail: string }> = {
  AUTHENTICATION_REQUIRED: { detail: 'Not authenticated' },
  INVALID_TOKEN: { detail: 'Could not validate credentials' },
  TOKEN_EXPIRED: { detail: 'Could not validate credentials' },
  INVALID_CREDENTIALS: { detail: 'Incorrect username or password' },
  INSUFFICIENT_ROLE: { detail: 'Not enough permissions' },
  CONFIG_NOT_FOUND: { detail: 'OTP configuration not found' },
  USERNAME_TAKEN: { status: 400, detail: 'Username already registered' },
  EMAIL_TAKEN: { status: 400, detail: 'Email already registered' },
  NOT_FOUND: { detail: 'Not Found' },
};

/**
 * The service's problem in FastAPI's shape: `{"detail": "..."}`, and for validation 422
 * `{"detail": [{loc, msg, type}]}`. Status, audit and headers stay the filter's.
 */
export function fastApiErrorShape(problem: ProblemDetails): CompatErrorAnswer {
  if (problem.code === 'VALIDATION_FAILED' || problem.code === 'MALFORMED_JSON') {
    return { status: 422, body: { detail: validationErrors(problem) } };
  }
  const known = DETAILS[problem.code];
  return { status: known?.status, body: { detail: known?.detail ?? problem.detail } };
}

function validationErrors(problem: ProblemDetails): FastApiValidationError[] {
  if (problem.code === 'MALFORMED_JSON') return [{ loc: ['body'], msg: problem.detail, type: 'json_invalid' }];
  const fields = problem.errors ?? [];
  if (fields.length === 0) return [{ loc: ['body'], msg: problem.detail, type: 'value_error' }];
  return fields.flatMap(({ field, messages }) =>
    messages.map((msg) => ({ loc: locationOf(field), msg, type: 'value_error' })),
  );
}

/** `items.0.name` → `["body", "items", 0, "name"]`; `body` (the whole body) → `["body"]`. */
function locationOf(field: string): Array<string | number> {
  if (field === 'body') return ['body'];
  return ['body', ...field.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part))];
}
