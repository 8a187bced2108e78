import { randomUUID } from 'node:crypto';
import helmet from 'helmet';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { IncomingMessage, Server } from 'node:http';
import { Logger } from 'nestjs-pino';
import { AppModule, AppOptions } from './app.module.js';
import { ConnectionRequests, headersSetBy, routerErrorHandler } from './common/framework-errors.js';
import { CompatErrorShapes } from './compat/compat-error-shapes.js';
import { jsonShapeProblem, requestCharactersProblem } from './common/input-limits.js';
import { createRootLogger, NestLogger, RequestLogController } from './common/logging.js';
import { runWithRequestContext } from './common/request-context.js';
import { createValidationPipe } from './common/validation.js';
import type { AppConfig } from './config/config.types.js';
import { registerConsole } from './console/console-static.js';
import { routedCompatUrl } from './compat/compat-paths.js';
import { setupOpenApi } from './openapi/openapi.js';
import { InvalidationChannel } from './database/invalidation-channel.js';

export const API_PREFIX = 'api/v1';
/** Swagger UI is the one HTML page: it needs its own scripts, styles and inline images. */
const DOCS_CSP =
  "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Longest path segment routed; longer ones get 414. Above every id and name a path carries (128). */
const MAX_PATH_PARAM_LENGTH = 256;

// API answers are JSON: they may not be framed, nor load or run anything. Headers that
// only matter to HTML pages are left out (each costs bytes on every response).
// Helmet's headers do not depend on the request: read once, they are set on every answer,
// the ones Fastify and Node.js give before any hook runs included.
const SECURITY_HEADERS = headersSetBy(
  helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: [`'none'`], frameAncestors: [`'none'`] } },
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xFrameOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  }),
);

/** Everything lives under /api/v1 except the service info, health, Prometheus and compatibility routes. */
export function useApiPrefix(app: INestApplication): void {
  app.setGlobalPrefix(API_PREFIX, { exclude: ['/', 'health', 'metrics', 'compat/{*path}'] });
}

export type DatabaseReadyConfig = AppConfig & { database: { url: string } };

/** Builds the whole HTTP application (not yet listening): used by the server and by the tests alike. */
export async function createApp(
  config: DatabaseReadyConfig,
  options: AppOptions = {},
): Promise<NestFastifyApplication> {
  const logger = createRootLogger(config.logLevel, options.logDestination);
  const connections = new ConnectionRequests();
  // Known once the app is built; the router's errors under a compat prefix answer in that system's body.
  const built: { compatShapes?: CompatErrorShapes } = {};
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    logController: new RequestLogController(),
    bodyLimit: config.bodyLimitBytes,
    // A request (headers and body) must arrive within the timeout, which Node.js checks this often
    // (and only when the headers timeout is not the longer of the two).
    requestTimeout: config.requestTimeoutMs,
    http: {
      headersTimeout: Math.min(60_000, config.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(5000, Math.ceil(config.requestTimeoutMs / 4)),
    },
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    // Under the replaced FastAPI service's prefix, `/users/` reaches the route `/users` (only there).
    rewriteUrl: (req: IncomingMessage) => routedCompatUrl(req.url ?? '/'),
    frameworkErrors: routerErrorHandler(SECURITY_HEADERS, (url) => built.compatShapes?.for(url)),
    clientErrorHandler: connections.clientErrorHandler(SECURITY_HEADERS),
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
    // No form-encoded bodies: the JSON parser is registered below.
    bodyParser: false,
  });
  app.useLogger(new NestLogger(app.get(Logger)));
  app.flushLogs();
  built.compatShapes = app.get(CompatErrorShapes);

  const fastify = app.getHttpAdapter().getInstance();
  const apiPath = `/${API_PREFIX}/`;
  fastify.addHook('onRequest', (request, reply, done) => {
    // On the Node.js response, so answers written past Fastify carry them too (helmet did the same).
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.raw.setHeader(name, value);
    void reply.header('x-request-id', request.id);
    // API answers carry tokens, secrets, codes and recovery codes: no cache may keep any of
    // them (errors included). /health and /metrics say so themselves; /docs stays cacheable.
    if (request.url.startsWith(apiPath) || request.url.startsWith('/compat/')) {
      void reply.header('cache-control', 'no-store');
    }
    connections.started(request, reply);
    done();
  });
  fastify.addHook('onResponse', (request, _reply, done) => {
    connections.finished(request);
    done();
  });
  // Bodies are JSON only (other types get 415), their shape checked before they are parsed.
  fastify.removeContentTypeParser('text/plain');
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser<Server>('application/json', { bodyLimit: config.bodyLimitBytes }, (request, body, done) => {
    const problem = jsonShapeProblem(body);
    if (problem) done(problem, undefined);
    else void parseJson(request, body.toString(), done);
  });
  // While shutting down, answers close their connection so keep-alive clients let the server stop.
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  const invalidation = app.get(InvalidationChannel);
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    if (request.url.startsWith('/docs')) void reply.header('content-security-policy', DOCS_CSP);
    // An answer after a revocation leaves once every instance has dropped what it cached.
    invalidation.afterConfirmed(() => done(null, payload));
  });
  // Before the guards, some of which read the body: no string may hold NUL or an unpaired surrogate.
  fastify.addHook('preValidation', (request, _reply, done) => done(requestCharactersProblem(request)));
  // After body parsing, so the whole handler chain (guards included) sees the context.
  fastify.addHook('preHandler', (request, _reply, done) => {
    runWithRequestContext(
      { requestId: String(request.id), ip: request.ip ?? null, userAgent: request.headers['user-agent'] ?? null },
      done,
    );
  });

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
