import { DataSourceOptions } from 'typeorm';
import { DatabaseLogger } from './database-logger.js';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from './migrations.js';

export interface DatabaseSettings {
  url: string;
  ssl: boolean;
  poolSize: number;
}

/** One definition of the connection for the app, the migration script and the tests. */
export function dataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    ssl: settings.ssl ? { rejectUnauthorized: false } : false,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    // Schema comes from migrations only; uuids from core gen_random_uuid(), no extension to install.
    synchronize: false,
    installExtensions: false,
    uuidExtension: 'pgcrypto',
    extra: { max: settings.poolSize, connectionTimeoutMillis: 5000 },
    // Statements and error codes, never parameter values.
    logger: new DatabaseLogger(),
  };
}
