import { createHash } from 'node:crypto';
import type { Pool, QueryResult, QueryResultRow } from 'pg';
import { DataSource, QueryFailedError } from 'typeorm';

/** Data sources whose connections are sessions of their own, where named statements are safe. */
const ownSessions = new WeakSet<DataSource>();

/**
 * Lets the data source's hot statements be named prepared statements, unless it is the embedded
 * PGlite: its socket serves every pool connection from one database session, where one
 * connection's statement name would collide with another's. Called once the source is open.
 */
export async function enableNamedStatements(dataSource: DataSource): Promise<boolean> {
  const [{ version }] = await dataSource.query<Array<{ version: string }>>('SELECT version()');
  if (/\bPGlite\b/.test(version)) return false;
  ownSessions.add(dataSource);
  return true;
}

/** Statement names by text; the hot statements are a few dozen constant texts. */
const names = new Map<string, string>();
const MAX_NAMES = 512;

function nameOf(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `s_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    if (names.size < MAX_NAMES) names.set(text, name);
  }
  return name;
}

/**
 * Runs one of the hot paths' statements as a named prepared statement on TypeORM's own pool:
 * each connection parses and plans it once instead of on every call (most of a short
 * statement's server time), and no query builder runs (on the embedded database, unnamed:
 * see enableNamedStatements). Only for constant texts, whose
 * values are all parameters. Errors are TypeORM's QueryFailedError, as from `query()`.
 */
export async function preparedQuery<Row extends QueryResultRow>(
  dataSource: DataSource,
  text: string,
  values: readonly unknown[],
): Promise<QueryResult<Row>> {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  try {
    const name = ownSessions.has(dataSource) ? nameOf(text) : undefined;
    return await pool.query<Row>({ name, text, values: values as unknown[] });
  } catch (error) {
    // Network errors stay as they are, so the outage handling recognises them as before.
    if (typeof (error as { severity?: unknown }).severity !== 'string') throw error;
    throw new QueryFailedError(text, values as unknown[], error as Error);
  }
}

/** The rows of a prepared statement (see preparedQuery). */
export async function preparedRows<Row extends QueryResultRow>(
  dataSource: DataSource,
  text: string,
  values: readonly unknown[],
): Promise<Row[]> {
  return (await preparedQuery<Row>(dataSource, text, values)).rows;
}
