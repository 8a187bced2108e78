import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, STATUS_CODES as HTTP_TITLES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { CompatErrorShape } from '#src/compat/compat-error-shapes.js';
import { PROBLEM_CONTENT_TYPE, problemDetails } from './problem.js';

/**
 * Answers for the errors Fastify and Node.js meet before a request reaches the Nest
 * exception filter (and before the `onRequest` hooks that set the request id and the
 * security headers): a path that cannot be decoded or has an overlong segment, a request
 * that is not valid HTTP, headers that are too large, a body that does not arrive in time.
 * They are problem details too, with the same headers as every other answer.
 */

export type HeaderMap = Readonly<Record<string, string>>;

/** The headers a Connect-style middleware (helmet) sets, read once: they are the same on every answer. */
export function headersSetBy(
  middleware: (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void,
): HeaderMap {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
  };
  middleware({ headers: {} } as IncomingMessage, response as unknown as ServerResponse, (error) => {
    if (error) throw error;
  });
  return headers;
}

/** The router's errors (Fastify's codes) and the problem codes they answer with; any other is a 400. */
const ROUTER_CODES: Record<string, string> = {
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'URI_TOO_LONG',
};
const ROUTER_DETAILS: Record<string, string> = {
  FST_ERR_BAD_URL: 'The path is not validly percent-encoded.',
  FST_ERR_MAX_PARAM_LENGTH: 'A path segment is too long.',
};

/** Connection errors (Node.js's codes), their status and problem code; any other is a 400. */
const CONNECTION_STATUSES: Record<string, number> = { ERR_HTTP_REQUEST_TIMEOUT: 408, HPE_HEADER_OVERFLOW: 431 };
const CONNECTION_CODES: Record<string, string> = {
  ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
};
const CONNECTION_DETAILS: Record<string, string> = {
  ERR_HTTP_REQUEST_TIMEOUT: 'The request was not received in time.',
  HPE_HEADER_OVERFLOW: 'The request headers are too large.',
};

/**
 * Fastify's `frameworkErrors`: errors of the router, met before any hook ran. Under a replaced
 * system's prefix (`compatShape`, as the exception filter reads it) the answer is in its body.
 */
export function routerErrorHandler(
  headers: HeaderMap,
  compatShape: (url: string) => CompatErrorShape | undefined = () => undefined,
) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const code = ROUTER_CODES[error.code];
    const status = code ? (error.statusCode ?? 400) : 400;
    const detail = ROUTER_DETAILS[error.code] ?? 'The request could not be routed.';
    const problem = problemDetails(status, code ?? 'BAD_REQUEST', detail, String(request.id));
    const compat = compatShape(request.url)?.(problem);
    void reply
      .headers({ ...headers, 'x-request-id': String(request.id), 'cache-control': 'no-store' })
      .code(compat?.status ?? status)
      .header('content-type', compat ? 'application/json' : PROBLEM_CONTENT_TYPE)
      .send(compat ? compat.body : problem);
  };
}

/**
 * The request each connection is receiving or answering, so that an error of the connection
 * (a body that does not arrive in time) is answered with that request's id, and nothing is
 * written over an answer already started.
 */
export class ConnectionRequests {
  private readonly current = new WeakMap<Socket, { requestId: string; response: ServerResponse }>();

  started(request: FastifyRequest, reply: FastifyReply): void {
    this.current.set(request.raw.socket, { requestId: String(request.id), response: reply.raw });
  }

  finished(request: FastifyRequest): void {
    this.current.delete(request.raw.socket);
  }

  /** Fastify's `clientErrorHandler`: answers on the raw socket, then closes it, as Node.js does. */
  clientErrorHandler(headers: HeaderMap) {
    return (error: Error & { code?: string }, socket: Socket): void => {
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      const inFlight = this.current.get(socket);
      if (socket.writable && !inFlight?.response.headersSent) {
        const status = CONNECTION_STATUSES[error.code ?? ''] ?? 400;
        const code = CONNECTION_CODES[error.code ?? ''] ?? 'BAD_REQUEST';
        const detail = CONNECTION_DETAILS[error.code ?? ''] ?? 'The request is not valid HTTP.';
        const requestId = inFlight?.requestId ?? randomUUID();
        const body = JSON.stringify(problemDetails(status, code, detail, requestId));
        const lines = Object.entries({
          ...headers,
          'x-request-id': requestId,
          'cache-control': 'no-store',
          'content-type': PROBLEM_CONTENT_TYPE,
          'content-length': String(Buffer.byteLength(body)),
          connection: 'close',
        }).map(([name, value]) => `${name}: ${value}`);
        socket.write(`HTTP/1.1 ${status} ${HTTP_TITLES[status]}\r\n${lines.join('\r\n')}\r\n\r\n${body}`);
      }
      socket.destroy(error);
    };
  }
}
