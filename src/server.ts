import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppOptions } from './app.module.js';
import { AuditService } from './audit/audit.service.js';
import type { AppConfig } from './config/config.types.js';
import { EmbeddedPostgres } from './database/embedded-postgres.js';
import { createApp } from './http-app.js';
import { formatGeneratedAdmin } from './start-notice.js';
import { AdminBootstrap, GeneratedAdmin } from './users/admin-bootstrap.js';

/** Bind addresses meaning "every interface": the URL to show is localhost. */
const ANY_ADDRESS = new Set(['0.0.0.0', '::']);

export interface RunningServer {
  app: NestFastifyApplication;
  url: string;
  /** True when running on the embedded PGlite database. */
  embedded: boolean;
  /** The first administrator this start created with a generated password (to show once). */
  generatedAdmin?: GeneratedAdmin;
  /** Stops accepting connections, lets in-flight requests finish, closes the pool, then the embedded database. */
  close(): Promise<void>;
}

/** Starts the service: the embedded database when no DATABASE_URL is given, then the HTTP app. */
export async function startServer(config: AppConfig, options: AppOptions = {}): Promise<RunningServer> {
  const embedded = config.database.url
    ? undefined
    : await EmbeddedPostgres.start(join(config.dataDir, 'pglite'), config.database.poolSize + 4);
  let app: NestFastifyApplication | undefined;
  try {
    const url = config.database.url ?? embedded!.url;
    app = await createApp(
      { ...config, database: { ...config.database, url } },
      { ...options, exclusiveDatabase: Boolean(embedded) },
    );
    await app.listen({ port: config.port, host: config.host });
    await app.get(AuditService).record({
      actorType: 'system',
      action: 'service.start',
      status: 'success',
      details: { version: config.version, embedded_database: Boolean(embedded) },
    });
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    let closing: Promise<void> | undefined;
    const running = app;
    return {
      app: running,
      url: `http://${ANY_ADDRESS.has(config.host) ? 'localhost' : config.host}:${port}`,
      embedded: Boolean(embedded),
      generatedAdmin: running.get(AdminBootstrap).takeGenerated(),
      close: () =>
        (closing ??= (async () => {
          await running.close();
          await embedded?.stop();
        })()),
    };
  } catch (error) {
    // The administrator exists now: its one-time password must be seen even if the start fails later.
    const admin = app?.get(AdminBootstrap).takeGenerated();
    if (admin) process.stderr.write(`${formatGeneratedAdmin(admin).join('\n')}\n`);
    await app?.close().catch(() => undefined);
    await embedded?.stop();
    throw error;
  }
}
