import { HttpStatus } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { ProblemException } from '#src/common/problem.js';

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

const pathOf = (url: string): string => {
  const query = url.indexOf('?');
  const path = query >= 0 ? url.slice(0, query) : url;
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
};

/**
 * Parses `application/x-www-form-urlencoded` bodies (an OAuth2 password request, as the
 * replaced system's clients send to its token route) for `tokenPath` only, with the same
 * body limit as JSON; anywhere else such a body stays a 415, as before. A repeated field
 * becomes a list, which the route's validation refuses.
 */
export function registerTokenFormParser(fastify: FastifyInstance, tokenPath: string, bodyLimit: number): void {
  fastify.addContentTypeParser(FORM_CONTENT_TYPE, { parseAs: 'string', bodyLimit }, (request, body, done) => {
    if (pathOf(request.url) !== tokenPath) {
      done(
        new ProblemException(
          HttpStatus.UNSUPPORTED_MEDIA_TYPE,
          'UNSUPPORTED_MEDIA_TYPE',
          'Send the body as application/json.',
        ),
        undefined,
      );
      return;
    }
    // A Map, then own properties: a field named __proto__ is a field, never the prototype.
    const fields = new Map<string, string[]>();
    for (const [name, value] of new URLSearchParams(body as string)) {
      fields.set(name, [...(fields.get(name) ?? []), value]);
    }
    done(
      null,
      Object.fromEntries([...fields].map(([name, values]) => [name, values.length === 1 ? values[0] : values])),
    );
  });
}
