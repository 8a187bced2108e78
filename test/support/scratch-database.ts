import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres.js';

export interface ScratchDatabase {
  url: string;
  drop: () => Promise<void>;
}

/**
 * A database of its own for a suite that must own a whole table (retention deletes rows,
 * an export counts every row), already migrated: a copy of the run's template database on
 * real Postgres (CREATE DATABASE … TEMPLATE), or an in-memory embedded database loaded from
 * the template's dump (a third of the time of initdb plus migrations). `migrated: false`
 * gives an empty database of the run's kind instead.
 */
export async function scratchDatabase(options: { migrated?: boolean } = {}): Promise<ScratchDatabase> {
  const migrated = options.migrated ?? true;
  if (inject('databaseKind') === 'pglite') {
    const template = migrated ? new Blob([readFileSync(inject('databaseTemplate'))]) : undefined;
    const embedded = await EmbeddedPostgres.start(undefined, 20, { template });
    return { url: embedded.url, drop: () => embedded.stop() };
  }
  const base = inject('databaseUrl');
  const name = `otp_scratch_${randomBytes(5).toString('hex')}`;
  await adminQuery(base, `CREATE DATABASE ${name}${migrated ? ` TEMPLATE ${inject('databaseTemplate')}` : ''}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
