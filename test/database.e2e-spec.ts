import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { runMigrations, schemaDrift } from '../src/database/migration-runner.js';
import { MIGRATIONS } from '../src/database/migrations.js';
import { scratchDatabase } from './support/scratch-database.js';
import { bootApp, TestApp } from './support/test-app.js';

describe('database schema', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await bootApp();
  });
  afterAll(() => t.close());

  it(`runs on the test run's database (${inject('databaseKind')})`, async () => {
    const [{ version }] = await t.dataSource.query('SELECT version()');
    expect(version).toMatch(/PostgreSQL/);
  });

  it('has applied every migration', async () => {
    const applied = await t.dataSource.query('SELECT name FROM migrations ORDER BY id');
    expect(applied.map((row: { name: string }) => row.name)).toEqual(MIGRATIONS.map((m) => new m().name));
  });

  it('matches the entities exactly: migrations and entities agree', async () => {
    expect(await schemaDrift(t.dataSource)).toEqual([]);
  });

  it(`migrates a fresh database (${inject('databaseKind')}) from zero, twice without harm, and reverts`, async () => {
    const empty = await scratchDatabase({ migrated: false });
    const ds = await new DataSource(dataSourceOptions({ url: empty.url, ssl: false, poolSize: 2 })).initialize();
    try {
      expect(await runMigrations(ds)).toHaveLength(MIGRATIONS.length);
      expect(await runMigrations(ds)).toEqual([]);
      expect(await schemaDrift(ds)).toEqual([]);
      for (let i = 0; i < MIGRATIONS.length; i++) await ds.undoLastMigration();
      const [{ count }] = await ds.query(
        `SELECT count(*)::int AS count FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations'`,
      );
      expect(count).toBe(0);
    } finally {
      await ds.destroy();
      await empty.drop();
    }
  });
});
