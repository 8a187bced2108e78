/**
 * The operator command line: `npm run cli -- <command>` (or `node dist/src/cli/main.js <command>`).
 * Boots the service's modules without HTTP, on the same configuration and database as the
 * service (the embedded one under DATA_DIR when DATABASE_URL is unset).
 */
import 'reflect-metadata';
import { join } from 'node:path';
import type { INestApplicationContext, LoggerService } from '@nestjs/common';
import { CommandFactory } from 'nest-commander';
import { ConfigError } from '#src/config/config.types.js';
import { loadEnvFile } from '#src/config/env-file.js';
import { loadConfig } from '#src/config/load-config.js';
import { EmbeddedDatabaseLockedError } from '#src/database/data-dir-lock.js';
import { EmbeddedPostgres } from '#src/database/embedded-postgres.js';
import { formatGeneratedAdmin } from '#src/start-notice.js';
import { AdminBootstrap } from '#src/users/admin-bootstrap.js';
import { SERVICE_VERSION } from '#src/version.js';
import { CliModule } from './cli.module.js';
import { CliError, describeError } from './output.js';
import { InvalidationChannel } from '#src/database/invalidation-channel.js';

/** How long a command waits to hear the database's invalidation notices before it runs regardless. */
const LISTEN_DEADLINE_MS = 5000;

/** Warnings and errors of the booted modules go to stderr, so stdout stays the command's answer. */
class StderrLogger implements LoggerService {
  log(): void {}
  warn(message: unknown): void {
    process.stderr.write(`warning: ${String(message)}\n`);
  }
  error(message: unknown): void {
    process.stderr.write(`error: ${String(message)}\n`);
  }
}

/** A parse error or --help/--version from commander (nest-commander bundles its own copy, so no instanceof). */
function isCommanderExit(error: unknown): error is { exitCode: number } {
  const { code, exitCode } = (error ?? {}) as { code?: unknown; exitCode?: unknown };
  return typeof code === 'string' && code.startsWith('commander.') && typeof exitCode === 'number';
}

async function main(): Promise<number> {
  // The usage line names the documented entry rather than this file.
  process.argv[1] = 'npm run cli --';

  loadEnvFile();
  let loaded;
  try {
    loaded = loadConfig(process.env, SERVICE_VERSION);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const { config } = loaded;
  const embedded = config.database.url
    ? undefined
    : await EmbeddedPostgres.start(join(config.dataDir, 'pglite'), 8).catch((error: unknown) => {
        if (error instanceof EmbeddedDatabaseLockedError) throw new CliError(error.message);
        throw new CliError(`cannot open the embedded database under ${config.dataDir}: ${describeError(error)}`);
      });
  let app: INestApplicationContext | undefined;
  try {
    const url = config.database.url ?? embedded!.url;
    app = await CommandFactory.createWithoutRunning(
      CliModule.forRoot({ ...config, database: { ...config.database, url, poolSize: 4 } }, Boolean(embedded)),
      {
        logger: new StderrLogger(),
        cliName: 'otp-service',
        version: SERVICE_VERSION,
        // Both parse errors and command failures come back here, so the database is closed before exiting.
        errorHandler: (error) => {
          throw error;
        },
        serviceErrorHandler: (error) => {
          throw error;
        },
      },
    );
    // On an empty database the service's first-start bootstrap ran here: its password is shown once.
    const admin = app.get(AdminBootstrap).takeGenerated();
    if (admin) process.stderr.write(`${formatGeneratedAdmin(admin).join('\n')}\n`);
    // A revocation made here must reach the running instances before the command reports it
    // done: listen first, so its own notices are seen and the instances' acknowledgements awaited.
    const invalidation = app.get(InvalidationChannel);
    await Promise.race([
      invalidation.attempted,
      new Promise((resolve) => setTimeout(resolve, LISTEN_DEADLINE_MS).unref()),
    ]);
    await CommandFactory.runApplication(app);
    await new Promise<void>((resolve) => invalidation.afterConfirmed(resolve));
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (isCommanderExit(error)) return error.exitCode; // commander has printed the usage or the help
    process.stderr.write(`error: ${describeError(error)}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  } finally {
    await app?.close();
    await embedded?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`error: ${describeError(error)}\n`);
    process.exit(1);
  },
);
