import type { FastifyRequest } from 'fastify';
import { API_KEY_PREFIX } from '#src/api-keys/api-key-format.js';

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const BEARER = /^Bearer\s+(\S+)$/i;

/** The credential a request carries, and which strategy it is for. */
export interface PresentedCredential {
  kind: 'api_key' | 'jwt';
  value: string;
  /** Has the API key prefix (a stray bearer that does not is, say, a refresh token). */
  looksLikeApiKey: boolean;
}

/**
 * `X-API-Key` first; else a bearer token: a JWT has three base64url parts, anything else
 * is taken as an API key. Both strategies and the guards' answers use this one reading.
 */
export function presentedCredential(request: FastifyRequest): PresentedCredential | null {
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.length > 0) return { kind: 'api_key', value: apiKey, looksLikeApiKey: true };
  const authorization = request.headers.authorization;
  const match = typeof authorization === 'string' ? BEARER.exec(authorization) : null;
  if (!match) return null;
  const value = match[1];
  return { kind: JWT_SHAPE.test(value) ? 'jwt' : 'api_key', value, looksLikeApiKey: value.startsWith(API_KEY_PREFIX) };
}
