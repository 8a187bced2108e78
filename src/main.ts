import 'reflect-metadata';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { ConfigError } from './config/config.types.js';
import { loadEnvFile } from './config/env-file.js';
import { GENERATED_SECRETS, loadConfig } from './config/load-config.js';
import { EmbeddedDatabaseLockedError } from './database/data-dir-lock.js';
import { startServer } from './server.js';
import { formatStartNotice } from './start-notice.js';
import { SERVICE_VERSION } from './version.js';

async function main(): Promise<void> {
  loadEnvFile();
  let loaded;
  try {
    loaded = loadConfig(process.env, SERVICE_VERSION);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`Configuration error: ${error.message}\n`);
    process.exit(1);
  }
  const { config, warnings } = loaded;
  const server = await startServer(config);
  const logger = new Logger('Main');
  for (const warning of warnings) logger.warn(warning);
  logger.log(
    `listening on ${server.url}${server.embedded ? ' (embedded database)' : ''}` +
      (config.docsEnabled ? `; API docs at ${server.url}/docs` : ''),
  );
  const generated =
    config.nodeEnv === 'production' ? [] : GENERATED_SECRETS.filter((name) => !process.env[name]?.trim());
  process.stderr.write(
    formatStartNotice({
      url: server.url,
      docsUrl: config.docsEnabled ? `${server.url}/docs` : undefined,
      embeddedDataDir: server.embedded ? join(config.dataDir, 'pglite') : undefined,
      admin: server.generatedAdmin,
      generatedSecrets: generated.length ? { names: generated, file: join(config.dataDir, 'secrets.json') } : undefined,
    }),
  );
  // SIGTERM/SIGINT: Nest's shutdown hooks close the HTTP server (in-flight requests finish) and the pool.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.log(`${signal} received, shutting down`);
      server.close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error(error);
          process.exit(1);
        },
      );
    });
  }
}

main().catch((error: unknown) => {
  // What the operator must change is said plainly; anything else keeps its stack.
  const known = error instanceof ConfigError || error instanceof EmbeddedDatabaseLockedError;
  process.stderr.write(
    `Failed to start: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`,
  );
  process.exit(1);
});
