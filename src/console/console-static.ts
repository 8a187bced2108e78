import { existsSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export const CONSOLE_PREFIX = '/console';
/**
 * The console is a built single-page app: scripts only from its own files (no inline script),
 * styles may be inline (the component library sets CSS variables at run time), images from
 * itself and data:/blob: URLs (QR codes, QR images read in the browser), API calls same-origin.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Where `npm run build` puts the console: `dist/web`. From the compiled module (dist/src/console)
 * that is two folders up; from the sources (tests run them directly) it is the repository's dist/web.
 */
export function consoleRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const compiled = here.split(sep).includes('dist');
  return compiled ? resolve(here, '../../web') : resolve(here, '../../dist/web');
}

/**
 * Serves the console at /console: hashed assets with a year-long immutable cache, and index.html
 * (never cached) for every client route under /console/*. The files are public; the API they
 * call stays authenticated. Without a build the routes answer a plain 404 saying so.
 */
export async function registerConsole(fastify: FastifyInstance, root = consoleRoot()): Promise<void> {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (request.url === CONSOLE_PREFIX || request.url.startsWith(`${CONSOLE_PREFIX}/`)) {
      void reply.header('content-security-policy', CONSOLE_CSP);
    }
    done(null, payload);
  });
  fastify.get(CONSOLE_PREFIX, (_request, reply) => reply.redirect(`${CONSOLE_PREFIX}/`, 302));
  if (!existsSync(join(root, 'index.html'))) {
    fastify.get(`${CONSOLE_PREFIX}/*`, (_request, reply) =>
      reply.code(404).type('text/plain').send('The console is not built: run "npm run build".\n'),
    );
    return;
  }
  await fastify.register(async (instance) => {
    await instance.register(fastifyStatic, {
      root,
      prefix: `${CONSOLE_PREFIX}/`,
      wildcard: false,
      index: false,
      cacheControl: false,
      setHeaders: (res, path) => {
        const immutable = path.startsWith(join(root, 'assets') + sep);
        void res.header('cache-control', immutable ? IMMUTABLE : 'no-cache');
      },
    });
    // Client routes (and the bare prefix) get the app shell; a missing asset is a real 404.
    instance.get(`${CONSOLE_PREFIX}/*`, (request, reply) => {
      if (request.url.startsWith(`${CONSOLE_PREFIX}/assets/`)) {
        return reply.code(404).type('text/plain').send('Not found\n');
      }
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    });
    instance.get(`${CONSOLE_PREFIX}/`, (_request, reply) =>
      reply.header('cache-control', 'no-cache').sendFile('index.html'),
    );
  });
}
