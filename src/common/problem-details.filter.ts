import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES as HTTP_TITLES } from 'node:http';
import { loggableError } from './loggable-error.js';
import { DatabaseOutage } from '#src/database/database-outage.service.js';
import { DATABASE_RETRY_AFTER_SECONDS } from '#src/database/database-unavailable.js';
import { RefusalAudit } from './auth/refusal-audit.js';
import { SecretDecryptionError } from '#src/crypto/secret-cipher.js';
import { CompatErrorShapes } from '#src/compat/compat-error-shapes.js';
import {
  PROBLEM_CONTENT_TYPE,
  problemDetails,
  ProblemDetails,
  ProblemException,
  SECRET_UNREADABLE,
  STATUS_CODES,
} from './problem.js';

/** Fastify's own errors (body parsing and limits) that reach us before any handler. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
};

/**
 * Turns every error into RFC 9457 problem details; unexpected ones become a logged 500 with
 * no internals. Refusals (401, 403, and the 429 of an address past its limit of them) go
 * through the refusal audit first: the one place they are counted and recorded.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  constructor(
    private readonly databaseOutage: DatabaseOutage,
    private readonly refusals: RefusalAudit,
    private readonly compatShapes: CompatErrorShapes,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void | Promise<void> {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    // A database outage is no fault of the request: 503 with Retry-After, warned once per outage.
    const unavailable = this.databaseOutage.report(exception);
    const problem = unavailable
      ? databaseUnavailable(String(request.id ?? ''))
      : this.toProblem(exception, String(request.id ?? ''));
    if (unavailable) void reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
    else if (problem.status >= 500) {
      // Sanitised here as well as by the logger's serializer: whatever logger Nest ends up using.
      this.logger.error({ err: loggableError(exception), requestId: problem.requestId }, 'unhandled error');
    }
    if (exception instanceof SecretDecryptionError) {
      this.logger.warn({ reason: exception.reason, requestId: problem.requestId }, 'stored secret unreadable');
    }
    // A problem that says when to come back (423 locks, 429 limits) says it in the header too.
    if (typeof problem.retry_after === 'number') void reply.header('retry-after', String(problem.retry_after));
    // A replaced system's route answers in that system's error shape, with the same status rules.
    const compat = this.compatShapes.for(request.url)?.(problem);
    const send = (): void =>
      void (compat
        ? reply
            .status(compat.status ?? problem.status)
            .header('content-type', 'application/json')
            .send(compat.body)
        : reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(problem));
    const noted = this.refusals.refused(request, exception, problem.status, problem.code);
    if (!noted) return send();
    return noted.then(send, (error: unknown) => {
      this.logger.error({ err: loggableError(error), requestId: problem.requestId }, 'auditing a refusal failed');
      send();
    });
  }

  private toProblem(exception: unknown, requestId: string): ProblemDetails {
    if (exception instanceof ProblemException) {
      return problemDetails(exception.getStatus(), exception.code, exception.message, requestId, exception.extensions);
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
      // Fastify's parser errors arrive wrapped, with the original as the cause.
      const causeCode = (exception.cause as { code?: string } | undefined)?.code;
      const code =
        typeof fields.code === 'string'
          ? fields.code
          : (FASTIFY_CODES[causeCode ?? ''] ?? STATUS_CODES[status] ?? `HTTP_${status}`);
      const extensions = Array.isArray(fields.errors) ? { errors: fields.errors } : {};
      return problemDetails(status, code, detailOf(fields.message, exception.message), requestId, extensions);
    }
    const fastifyError = exception as { statusCode?: number; code?: string; message?: string };
    if (
      typeof fastifyError?.statusCode === 'number' &&
      fastifyError.statusCode >= 400 &&
      fastifyError.statusCode < 500
    ) {
      const status = fastifyError.statusCode;
      const code = FASTIFY_CODES[fastifyError.code ?? ''] ?? STATUS_CODES[status] ?? `HTTP_${status}`;
      return problemDetails(status, code, fastifyError.message ?? HTTP_TITLES[status] ?? 'Bad request', requestId);
    }
    // Wherever a stored secret is decrypted: the key ring lacks its key, or the token is damaged.
    if (exception instanceof SecretDecryptionError) {
      return problemDetails(HttpStatus.CONFLICT, 'SECRET_UNREADABLE', SECRET_UNREADABLE.detail, requestId);
    }
    if (exception instanceof SyntaxError) {
      return problemDetails(HttpStatus.BAD_REQUEST, 'MALFORMED_JSON', 'The body is not valid JSON.', requestId);
    }
    return problemDetails(
      HttpStatus.INTERNAL_SERVER_ERROR,
      'INTERNAL_ERROR',
      'An unexpected error occurred.',
      requestId,
    );
  }
}

function databaseUnavailable(requestId: string): ProblemDetails {
  const detail = `The database cannot be reached right now; retry after ${DATABASE_RETRY_AFTER_SECONDS} seconds.`;
  return problemDetails(HttpStatus.SERVICE_UNAVAILABLE, 'DATABASE_UNAVAILABLE', detail, requestId, {
    retry_after: DATABASE_RETRY_AFTER_SECONDS,
  });
}

function detailOf(message: unknown, fallback: string): string {
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : fallback;
}
