import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError } from './config/config.types.js';
import { loadConfig } from './config/load-config.js';
import { startServer } from './server.js';
import { SERVICE_VERSION } from './version.js';

async function main(): Promise<void> {
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
  process.stderr.write(`Failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
