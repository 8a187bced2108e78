import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DestinationStream } from 'pino';
import type { Params } from 'nestjs-pino';

/** Anything that may carry a credential, wherever it appears in a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...['password', 'new_password', 'current_password', 'secret', 'mfa_secret', 'token', 'access_token', 'refresh_token']
    .concat(['key', 'api_key', 'derived_key', 'code', 'otp', 'otp_code', 'mfa_code', 'recovery_code'])
    .flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
];

type RequestWithRoute = IncomingMessage & { id?: string; routePattern?: string };

/** JSON lines: one per request with id, method, route, status and latency; credentials redacted. */
export function loggerParams(level: string, destination?: DestinationStream): Params {
  return {
    pinoHttp: [
      {
        level,
        genReqId: (req: IncomingMessage) => (req as RequestWithRoute).id ?? '',
        customProps: (req: IncomingMessage) => ({ route: (req as RequestWithRoute).routePattern }),
        customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
          error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
        serializers: {
          // The path only: query strings are not logged.
          req: (req: { id: string; method: string; url: string; headers: Record<string, unknown> }) => ({
            id: req.id,
            method: req.method,
            path: req.url.split('?')[0],
            headers: { 'user-agent': req.headers['user-agent'], authorization: req.headers.authorization },
          }),
          res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        },
        redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      },
      destination as DestinationStream,
    ],
  };
}
