import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppOptions } from './app.module.js';
import { AuditService } from './audit/audit.service.js';
import type { AppConfig } from './config/config.types.js';
import { EmbeddedPostgres } from './database/embedded-postgres.js';
import { createApp } from './http-app.js';

export interface RunningServer {
  app: NestFastifyApplication;
  url: string;
  /** True when running on the embedded PGlite database. */
  embedded: boolean;
  /** Stops accepting connections, lets in-flight requests finish, closes the pool, then the embedded database. */
  close(): Promise<void>;
}

/** Starts the service: the embedded database when no DATABASE_URL is given, then the HTTP app. */
export async function startServer(config: AppConfig, options: AppOptions = {}): Promise<RunningServer> {
  const embedded = config.database.url
    ? undefined
    : await EmbeddedPostgres.start(join(config.dataDir, 'pglite'), config.database.poolSize + 4);
  try {
    const url = config.database.url ?? embedded!.url;
    const app = await createApp({ ...config, database: { ...config.database, url } }, options);
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
    return {
      app,
      url: `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`,
      embedded: Boolean(embedded),
      close: () =>
        (closing ??= (async () => {
          await app.close();
          await embedded?.stop();
        })()),
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}
