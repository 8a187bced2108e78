import { normalizeIp } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '#src/common/auth/principal.js';

/** Names who a request counts against, for a rate limit. */
export type Tracker = (request: FastifyRequest) => string;

/** The client address; IPv6 by /64, since one host usually holds a whole subnet. */
export const ipTracker: Tracker = (request) => `ip:${normalizeIp(request.ip)}`;

/** The authenticated caller (user or API key), else the address. */
export const callerTracker: Tracker = (request) => {
  const principal: Principal | undefined = request.principal;
  if (principal?.kind === 'user') return `user:${principal.userId}`;
  if (principal?.kind === 'api_key') return `key:${principal.apiKeyId}`;
  return ipTracker(request);
};

/** The name a login gives (username or e-mail), trimmed and lower-cased; '' when there is none. */
export const loginName = (request: FastifyRequest): string => {
  const username = (request.body as { username?: unknown } | undefined)?.username;
  return typeof username === 'string' ? username.trim().toLowerCase() : '';
};

/** The account a login names (trimmed, lower-cased, so variants share one count), else the address. */
export const usernameTracker: Tracker = (request) => {
  const normalized = loginName(request);
  return normalized ? `username:${normalized}` : ipTracker(request);
};
