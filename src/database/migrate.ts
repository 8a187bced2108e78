/**
 * Migration command, also Render's pre-deploy step:
 *   node dist/src/database/migrate.js [run|revert|show|generate NAME]
 * Uses DATABASE_URL, or the embedded database under DATA_DIR when it is unset.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { loadEnvFile } from '#src/config/env-file.js';
import { loadConfig } from '#src/config/load-config.js';
import { dataSourceOptions } from './data-source-options.js';
import { EmbeddedPostgres } from './embedded-postgres.js';
import { runMigrations, schemaDrift } from './migration-runner.js';
import { join } from 'node:path';

async function main(): Promise<void> {
  const [command = 'run', name] = process.argv.slice(2);
  loadEnvFile();
  const { config } = loadConfig(process.env);
  const embedded = config.database.url ? undefined : await EmbeddedPostgres.start(join(config.dataDir, 'pglite'), 4);
  const url = config.database.url ?? embedded!.url;
  const dataSource = await new DataSource(dataSourceOptions({ ...config.database, url, poolSize: 2 })).initialize();
  try {
    switch (command) {
      case 'run': {
        const applied = await runMigrations(dataSource);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n');
        break;
      }
      case 'revert':
        await dataSource.undoLastMigration({ transaction: 'each' });
        process.stdout.write('reverted the last migration\n');
        break;
      case 'show':
        process.stdout.write((await dataSource.showMigrations()) ? 'pending migrations\n' : 'schema is up to date\n');
        break;
      case 'generate':
        // Diff the entities against the schema the existing migrations produce.
        await runMigrations(dataSource);
        generate(name, await schemaDrift(dataSource));
        break;
      default:
        throw new Error(`unknown command "${command}" (run, revert, show, generate NAME)`);
    }
  } finally {
    await dataSource.destroy();
    await embedded?.stop();
  }
}

/** Writes the SQL that brings the migrated schema to the entities as a new migration. */
function generate(name: string | undefined, queries: string[]): void {
  if (!name || !/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new Error('generate needs a PascalCase NAME');
  if (queries.length === 0) {
    process.stdout.write('entities and migrations agree; nothing to generate\n');
    return;
  }
  const timestamp = Date.now();
  const body = queries.map((q) => `    await queryRunner.query(${JSON.stringify(q)});`).join('\n');
  const file = `migrations/${timestamp}-${name}.ts`;
  writeFileSync(
    file,
    `import { MigrationInterface, QueryRunner } from 'typeorm';\n\nexport class ${name}${timestamp} implements MigrationInterface {\n  name = '${name}${timestamp}';\n\n  async up(queryRunner: QueryRunner): Promise<void> {\n${body}\n  }\n\n  async down(): Promise<void> {\n    throw new Error('write the down migration');\n  }\n}\n`,
  );
  process.stdout.write(`wrote ${file}; add it to src/database/migrations.ts\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`migration failed: ${(error as Error).message}\n`);
  process.exit(1);
});
