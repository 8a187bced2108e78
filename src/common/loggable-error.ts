/*
 * What of an error may be written to a log. Database errors are the dangerous ones: a
 * TypeORM QueryFailedError carries the statement's parameters (password hashes, e-mail
 * addresses, secrets), and Postgres echoes values in `detail` ("Key (email)=(…)") and in
 * some messages. Pure: no Nest, no pino.
 */
const LOGGABLE = Symbol('loggableError');
/** Facts about a failure that never carry data: system error codes, HTTP status. */
const PLAIN_FIELDS = ['code', 'errno', 'syscall', 'address', 'port', 'statusCode'] as const;
/** What Postgres says about a failed statement besides its message; its `detail` and `where` echo values, so they are left out. */
const DATABASE_FIELDS = ['severity', 'constraint', 'table', 'column', 'schema', 'dataType', 'routine'] as const;
const MAX_DEPTH = 4;
const NO_SCRUB: Scrubber = { text: (text) => text, sql: (sql) => sql };

type Fields = Record<string | symbol, unknown>;

/**
 * An error as it may be logged (the `err` serializer of every logger, and the exception
 * filter's own log): type, message, stack, codes and causes. A database error keeps its
 * statement (`sql`, with `$n` placeholders), SQLSTATE `code` and constraint, never its
 * parameters, `detail` or `where`, and quoted values in its message are masked — e.g.
 * `invalid input syntax for type uuid: "…"` — as is any parameter text found anywhere.
 */
export function loggableError(error: unknown, depth = 0): Fields {
  if (error === null || typeof error !== 'object') return { type: typeof error, message: String(error) };
  const source = error as Fields;
  if (source[LOGGABLE]) return source;
  const driver = isFields(source.driverError) ? source.driverError : source;
  const database = isDatabaseError(source);
  const scrub = database ? databaseScrubber(source, driver) : NO_SCRUB;
  const out: Fields = {
    type: error instanceof Error ? error.constructor.name : 'Object',
    message: scrub.text(String(source.message ?? '')),
  };
  if (typeof source.stack === 'string') out.stack = scrub.text(source.stack);
  for (const field of PLAIN_FIELDS) {
    const value = source[field] ?? driver[field];
    if (typeof value === 'string' || typeof value === 'number') out[field] = value;
  }
  if (database) {
    for (const field of DATABASE_FIELDS) if (typeof driver[field] === 'string') out[field] = driver[field];
    if (typeof source.query === 'string') out.sql = scrub.sql(source.query);
  }
  if (depth < MAX_DEPTH) {
    if (source.cause !== undefined) out.cause = loggableError(source.cause, depth + 1);
    if (Array.isArray(source.errors)) out.errors = source.errors.slice(0, 10).map((e) => loggableError(e, depth + 1));
  }
  Object.defineProperty(out, LOGGABLE, { value: true });
  return out;
}

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null;
}

/** A TypeORM QueryFailedError, or a pg / PGlite error straight from the driver. */
function isDatabaseError(error: Fields): boolean {
  if ('driverError' in error || ('query' in error && 'parameters' in error)) return true;
  return typeof error.code === 'string' && /^[0-9A-Z]{5}$/.test(error.code) && typeof error.severity === 'string';
}

interface Scrubber {
  /** Masks parameter text and quoted values (messages and stacks). */
  text: (text: string) => string;
  /** Masks parameter text only: the statement's quoted identifiers stay readable. */
  sql: (sql: string) => string;
}

function databaseScrubber(error: Fields, driver: Fields): Scrubber {
  const identifiers = new Set(DATABASE_FIELDS.map((field) => driver[field]).filter((v) => typeof v === 'string'));
  const values = (Array.isArray(error.parameters) ? error.parameters : [])
    .filter((p): p is string => typeof p === 'string' && p.length >= 4)
    .sort((a, b) => b.length - a.length);
  const sql = (text: string): string => values.reduce((masked, value) => masked.replaceAll(value, '[REDACTED]'), text);
  return {
    sql,
    text: (text) =>
      sql(text).replace(/"([^"\n]*)"/g, (quoted, inner: string) => (identifiers.has(inner) ? quoted : '"…"')),
  };
}
