import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import type { TestProject } from 'vitest/node';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { EmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { runMigrations } from '../src/database/migration-runner.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    databaseKind: 'postgres' | 'pglite';
    /** A migrated, empty database that scratch databases copy: a database name on Postgres, a tarball path on PGlite. */
    databaseTemplate: string;
    /** The key ring of the run: every suite encrypts with it, so the start-up check finds readable secrets. */
    encryptionKeys: string;
  }
}

/**
 * One database per test run, migrated once: on the Postgres named by TEST_DATABASE_URL a
 * migrated template database and a copy of it for the run (both dropped at the end), or else
 * an in-memory embedded PGlite served over a socket, whose dump is the template.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  project.provide('encryptionKeys', `k1:${randomBytes(32).toString('base64url')}`);
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const embedded = await EmbeddedPostgres.start(undefined, 40);
    await migrate(embedded.url);
    const dir = mkdtempSync(join(tmpdir(), 'otp-test-template-'));
    const template = join(dir, 'template.tar');
    writeFileSync(template, Buffer.from(await (await embedded.dump()).arrayBuffer()));
    project.provide('databaseUrl', embedded.url);
    project.provide('databaseKind', 'pglite');
    project.provide('databaseTemplate', template);
    return async () => {
      await embedded.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const template = `otp_template_${suffix}`;
  const name = `otp_test_${suffix}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${template}`);
  await migrate(withDatabase(adminUrl, template));
  await adminQuery(adminUrl, `CREATE DATABASE ${name} TEMPLATE ${template}`);
  project.provide('databaseUrl', withDatabase(adminUrl, name));
  project.provide('databaseKind', 'postgres');
  project.provide('databaseTemplate', template);
  return async () => {
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
  };
}

async function migrate(url: string): Promise<void> {
  const dataSource = await new DataSource(dataSourceOptions({ url, ssl: false, poolSize: 2 })).initialize();
  try {
    await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

function withDatabase(url: string, name: string): string {
  const copy = new URL(url);
  copy.pathname = `/${name}`;
  return copy.toString();
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
