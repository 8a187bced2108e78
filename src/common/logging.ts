import type { LoggerService } from '@nestjs/common';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Params } from 'nestjs-pino';
import { pino, type DestinationStream, type Logger } from 'pino';
import { loggableError } from './loggable-error.js';

/** Request headers that carry credentials: logged only as "[REDACTED]" when present. */
export const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'cookie'] as const;
const REDACTED = '[REDACTED]';

/**
 * The root JSON logger; Fastify gives each request a child carrying its `reqId`. Errors
 * (`err`) are logged through loggableError: a database error never with its parameters.
 */
export function createRootLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, serializers: { err: loggableError } }, destination);
}

/** Nest's own logging goes through the request's logger when there is one, the root otherwise. */
export function nestLoggerParams(logger: Logger): Params {
  return { useExisting: true, pinoHttp: { logger } };
}

/** Nest contexts whose start-up lines (one per module, controller and route) are detail, not news. */
const START_UP_DETAIL_CONTEXTS = new Set(['RoutesResolver', 'RouterExplorer', 'InstanceLoader']);

/** Nest's logger with the start-up detail at debug level: at info a start says what matters. */
export class NestLogger implements LoggerService {
  constructor(private readonly inner: LoggerService) {}

  log(message: unknown, ...params: unknown[]): void {
    if (START_UP_DETAIL_CONTEXTS.has(params.at(-1) as string)) this.inner.debug?.(message, ...params);
    else this.inner.log(message, ...params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.inner.error(message, ...params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.inner.warn(message, ...params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.inner.debug?.(message, ...params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.inner.verbose?.(message, ...params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.inner.fatal?.(message, ...params);
  }
}

/**
 * One line per request, written when it completes: id, method, path, route, status and
 * latency. Bodies and query strings are never logged; credential headers are masked.
 */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    // 503 is a deliberate answer while a dependency is down (warned once per outage), not a fault.
    const level = error || (status >= 500 && status !== 503) ? 'error' : status >= 400 ? 'warn' : 'info';
    if (!(request.log as unknown as Logger).isLevelEnabled(level)) return;
    const headers: Record<string, unknown> = { 'user-agent': request.headers['user-agent'] };
    for (const name of CREDENTIAL_HEADERS) if (request.headers[name] !== undefined) headers[name] = REDACTED;
    request.log[level](
      {
        // Own keys: Fastify's `req`/`res` serializers would reshape these.
        request: { method: request.method, path: request.url.split('?')[0], headers },
        route: request.routeOptions.url,
        status,
        responseTime: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request completed',
    );
  }
}
