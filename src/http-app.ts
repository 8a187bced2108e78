import { randomUUID } from 'node:crypto';
import helmet from 'helmet';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { IncomingMessage } from 'node:http';
import { Logger } from 'nestjs-pino';
import { AppModule, AppOptions } from './app.module.js';
import { createRootLogger, NestLogger, RequestLogController } from './common/logging.js';
import { runWithRequestContext } from './common/request-context.js';
import { createValidationPipe } from './common/validation.js';
import type { AppConfig } from './config/config.types.js';
import { registerConsole } from './console/console-static.js';
import { setupOpenApi } from './openapi/openapi.js';

export const API_PREFIX = 'api/v1';
/** Swagger UI is the one HTML page: it needs its own scripts, styles and inline images. */
const DOCS_CSP =
  "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Everything lives under /api/v1 except the service info, health and Prometheus routes. */
export function useApiPrefix(app: INestApplication): void {
  app.setGlobalPrefix(API_PREFIX, { exclude: ['/', 'health', 'metrics'] });
}

export type DatabaseReadyConfig = AppConfig & { database: { url: string } };

/** Builds the whole HTTP application (not yet listening): used by the server and by the tests alike. */
export async function createApp(
  config: DatabaseReadyConfig,
  options: AppOptions = {},
): Promise<NestFastifyApplication> {
  const logger = createRootLogger(config.logLevel, options.logDestination);
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    logController: new RequestLogController(),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    // Keep a caller's well-formed request id so a request can be followed across services.
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    // On close: drop idle keep-alive sockets at once, let in-flight requests finish.
    forceCloseConnections: 'idle',
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, logger, options), adapter, {
    bufferLogs: true,
  });
  app.useLogger(new NestLogger(app.get(Logger)));
  app.flushLogs();

  const fastify = app.getHttpAdapter().getInstance();
  const apiPath = `/${API_PREFIX}/`;
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    // API answers carry tokens, secrets, codes and recovery codes: no cache may keep any of
    // them (errors included). /health and /metrics say so themselves; /docs stays cacheable.
    if (request.url.startsWith(apiPath)) void reply.header('cache-control', 'no-store');
    done();
  });
  // While shutting down, answers close their connection so keep-alive clients let the server stop.
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    if (request.url.startsWith('/docs')) void reply.header('content-security-policy', DOCS_CSP);
    done(null, payload);
  });
  // After body parsing, so the whole handler chain (guards included) sees the context.
  fastify.addHook('preHandler', (request, _reply, done) => {
    runWithRequestContext(
      { requestId: String(request.id), ip: request.ip ?? null, userAgent: request.headers['user-agent'] ?? null },
      done,
    );
  });

  // API answers are JSON: they may not be framed, nor load or run anything. Headers that
  // only matter to HTML pages are left out (each costs bytes on every response).
  // Helmet's middleware is built once here: @fastify/helmet rebuilds it (parsing the policy)
  // on every request, a measurable share of a small request's cost.
  const securityHeaders = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: [`'none'`], frameAncestors: [`'none'`] } },
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xFrameOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
  fastify.addHook('onRequest', (request, reply, done) =>
    securityHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined)),
  );
  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: [...config.corsOrigins],
      credentials: false,
      exposedHeaders: ['x-request-id', 'retry-after'],
    });
  }
  // The web console's static files (public; everything it calls is the authenticated API).
  await registerConsole(fastify);
  useApiPrefix(app);
  app.useGlobalPipes(createValidationPipe());
  if (config.docsEnabled) setupOpenApi(app, config);

  await app.init();
  await fastify.ready();
  return app;
}
