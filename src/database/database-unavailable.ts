/** Seconds a client is told to wait (Retry-After) while the database cannot be reached. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Socket-level failures: the database host cannot be reached or dropped the connection. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that is shutting down or starting (57P01 admin_shutdown,
 * 57P02 crash_shutdown, 57P03 cannot_connect_now) and class 08, connection exceptions.
 */
const UNAVAILABLE_SQLSTATE = /^(?:57P0[123]|08[0-9A-Z]{3})$/;

/** What node-postgres and its pool say when a connection is lost or cannot be had in time. */
const UNAVAILABLE_MESSAGE =
  /^(?:Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout)/;

interface ErrorLike {
  statusCode?: unknown;
  getStatus?: unknown;
  code?: unknown;
  message?: unknown;
  driverError?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/**
 * True when `error` says the database cannot be reached (refused, reset, timed out, shutting
 * down), as opposed to a query the database refused or an HTTP answer. Looks through TypeORM's QueryFailedError
 * (`driverError`), `cause` chains and the AggregateError a dual-stack connect raises.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const { statusCode, getStatus, code, message, driverError, cause, errors } = error as ErrorLike;
  // An error that carries an HTTP status (Nest's HttpException, Fastify's own, such as a client
  // dropping its connection mid-body) is an answer to the request, whatever its cause.
  if (typeof statusCode === 'number' || typeof getStatus === 'function') return false;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
  if (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return isDatabaseUnavailable(driverError, depth + 1) || isDatabaseUnavailable(cause, depth + 1);
}

/** A short reason for the log: the error's code and message, never the query or its parameters. */
export function unavailableReason(error: unknown): string {
  const inner = (error as ErrorLike | undefined)?.driverError ?? error;
  const { code, message } = (inner ?? {}) as ErrorLike;
  const text = typeof message === 'string' && message ? message : 'unreachable';
  return typeof code === 'string' && !text.includes(code) ? `${code}: ${text}` : text;
}
