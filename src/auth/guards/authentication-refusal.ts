import type { FastifyRequest } from 'fastify';
import { unauthenticated } from '#src/common/auth/auth-errors.js';
import type { ProblemException } from '#src/common/problem.js';
import { presentedCredential } from '../strategies/credentials.js';
import { accessTokenRefusal } from '../token.service.js';

/** Which credentials a route takes. */
export interface Accepts {
  users: boolean;
  apiKeys: boolean;
}

/**
 * The problem for a request no strategy authenticated (passport's plain 401 never reaches
 * a client): what was presented, against what the route takes. `failures` are the
 * strategies' failure reasons (passport-jwt's jsonwebtoken error tells an expired token).
 */
export function authenticationRefusal(request: FastifyRequest, accepts: Accepts, failures: unknown): ProblemException {
  const credential = presentedCredential(request);
  if (!credential) return unauthenticated('AUTHENTICATION_REQUIRED', 'This route needs credentials.');
  if (credential.kind === 'api_key') {
    if (accepts.apiKeys) return unauthenticated('INVALID_API_KEY', 'The API key is unknown, revoked or expired.');
    // A stray bearer (say, a refresh token) is a bad access token, not an API key.
    if (!credential.looksLikeApiKey) return unauthenticated('INVALID_TOKEN', 'The access token is not valid.');
    return unauthenticated('API_KEY_NOT_ACCEPTED', 'This route needs a signed-in user.');
  }
  if (!accepts.users) return unauthenticated('API_KEY_REQUIRED', 'This route needs an API key.');
  const reasons: unknown[] = Array.isArray(failures) ? failures : [failures];
  return accessTokenRefusal(reasons.find((reason) => reason instanceof Error && reason.name === 'TokenExpiredError'));
}
