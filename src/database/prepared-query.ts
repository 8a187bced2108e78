import { createHash } from 'node:crypto';
import type { Pool, QueryResult, QueryResultRow } from 'pg';
import { DataSource, QueryFailedError } from 'typeorm';

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
 * statement's server time), and no query builder runs. Only for constant texts, whose
 * values are all parameters. Errors are TypeORM's QueryFailedError, as from `query()`.
 */
export async function preparedQuery<Row extends QueryResultRow>(
  dataSource: DataSource,
  text: string,
  values: readonly unknown[],
): Promise<QueryResult<Row>> {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  try {
    return await pool.query<Row>({ name: nameOf(text), text, values: values as unknown[] });
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
