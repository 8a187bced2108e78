import type { ApiKeyScope } from '#src/api-keys/api-key.entity.js';
import type { UserRole } from '#src/users/user.entity.js';

/** A person signed in with an access token. */
export interface UserPrincipal {
  kind: 'user';
  userId: string;
  username: string;
  role: UserRole;
  sessionId: string;
  /** When the session last re-authenticated (POST auth/step-up); null = not since sign-in. */
  stepUpAt: Date | null;
}

/** An enterprise client calling with an API key. */
export interface ClientPrincipal {
  kind: 'api_key';
  apiKeyId: string;
  clientId: string;
  scopes: readonly ApiKeyScope[];
}

export type Principal = UserPrincipal | ClientPrincipal;

/** What a strategy learnt besides who the caller is (passport's `authInfo`). */
export interface AuthInfo {
  /** The user must change the password before anything else (set by an administrator). */
  mustChangePassword?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the route's authentication guard on every authenticated request. */
    principal?: Principal;
    /** Set by passport with the principal. */
    authInfo?: AuthInfo;
  }
}
