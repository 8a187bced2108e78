import type { PoolClient } from 'pg';
import { DataSourceOptions } from 'typeorm';
import { DatabaseLogger } from './database-logger.js';
import type { DatabaseTls } from '#src/config/database-tls.js';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from './migrations.js';

export interface DatabaseSettings {
  url: string;
  /** Passed to the driver as is: the certificate is verified unless rejectUnauthorized is false. */
  ssl: DatabaseTls;
  poolSize: number;
}

/** One definition of the connection for the app, the migration script and the tests. */
export function dataSourceOptions(
  settings: DatabaseSettings,
  hooks: { onConnect?: (client: PoolClient) => Promise<void> } = {},
): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    ssl: settings.ssl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    // Schema comes from migrations only; uuids from core gen_random_uuid(), no extension to install.
    synchronize: false,
    installExtensions: false,
    uuidExtension: 'pgcrypto',
    extra: { max: settings.poolSize, connectionTimeoutMillis: 5000, onConnect: hooks.onConnect },
    // Statements and error codes, never parameter values.
    logger: new DatabaseLogger(),
  };
}
