import type { ClientPrincipal, UserPrincipal } from '#src/common/auth/principal.js';

/**
 * Tenancy of usage-limited keys, as pure rules. A key's owner is an API client (its
 * `client_id`) or the admin space. In SQL the owner is `coalesce(client_id, '')`, the
 * expression the unique index is built on, so the admin space is `''` (a client id is never
 * empty).
 */

/** Who acts on a key: a signed-in person, an enterprise client, or the operator's command line. */
export type KeyActor = UserPrincipal | ClientPrincipal | { kind: 'system' };

/** The admin space as the owner expression `coalesce(client_id, '')` reads it. */
export const ADMIN_SPACE = '';

/** The keys the use routes (code, validate, info) reach for a caller. */
export interface UseReach {
  /** The one space searched: the caller's client, or the admin space. */
  owner: string;
  /** Only keys assigned to this person; null = every key of the space. */
  assignee: string | null;
}

/**
 * An API key uses its own client's keys; a person only the admin-space keys assigned to them;
 * an administrator and the command line every admin-space key.
 */
export function useReach(actor: KeyActor): UseReach {
  if (actor.kind === 'api_key') return { owner: actor.clientId, assignee: null };
  if (actor.kind === 'user' && actor.role !== 'admin') return { owner: ADMIN_SPACE, assignee: actor.userId };
  return { owner: ADMIN_SPACE, assignee: null };
}

/** Administrators and the command line reach every space (the admin routes' owner parameter). */
export const reachesEverySpace = (actor: KeyActor): boolean =>
  actor.kind === 'system' || (actor.kind === 'user' && actor.role === 'admin');

/** The space a caller creates and imports into: its client's, or the admin space. Null: none. */
export function ownSpace(actor: KeyActor): string | null {
  if (actor.kind === 'api_key') return actor.clientId;
  return reachesEverySpace(actor) ? ADMIN_SPACE : null;
}

/**
 * The space an admin route addresses. Administrators and the command line: the client named
 * by `clientId`, else the admin space. An API key: its own client's (naming another client
 * reaches nothing). Null: nothing is reachable, and the key answers as an unknown name.
 */
export function addressedSpace(actor: KeyActor, clientId: string | undefined): string | null {
  if (reachesEverySpace(actor)) return clientId ?? ADMIN_SPACE;
  if (actor.kind === 'api_key' && (clientId === undefined || clientId === actor.clientId)) return actor.clientId;
  return null;
}

/** The owner as answered and stored: a client id, or null for the admin space. */
export const ownerColumn = (space: string): string | null => (space === ADMIN_SPACE ? null : space);
