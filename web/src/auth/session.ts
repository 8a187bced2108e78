import { useSyncExternalStore } from 'react';
import { api, setAccessToken, setRefresher, type Schemas } from '../api/client';

/**
 * Tokens live in memory only (this module), never in storage: a reload signs out. The access
 * token is renewed silently a minute before it expires (or at 80% of a shorter lifetime);
 * signing out revokes the refresh token and clears everything.
 */
export interface Session {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
  user: Schemas['LoginUserDto'];
}

let session: Session | null = null;
let timer: ReturnType<typeof setTimeout> | null = null;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<() => void>();
const signOutListeners = new Set<() => void>();

function emit(): void {
  for (const listener of listeners) listener();
}

export function getSession(): Session | null {
  return session;
}

export function useSession(): Session | null {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => session,
  );
}

/** Called with every sign-out (the query cache is cleared there). */
export function onSignOut(listener: () => void): () => void {
  signOutListeners.add(listener);
  return () => signOutListeners.delete(listener);
}

function schedule(expiresInSeconds: number): void {
  if (timer) clearTimeout(timer);
  const lead = Math.min(60, expiresInSeconds * 0.2);
  timer = setTimeout(() => void refresh(), Math.max(1, expiresInSeconds - lead) * 1000);
}

export function startSession(tokens: Schemas['TokenResponseDto'], user: Schemas['LoginUserDto']): void {
  session = {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresAt: Date.now() + tokens.expires_in * 1000,
    user,
  };
  setAccessToken(tokens.access_token);
  schedule(tokens.expires_in);
  emit();
}

export function updateUser(patch: Partial<Schemas['LoginUserDto']>): void {
  if (!session) return;
  session = { ...session, user: { ...session.user, ...patch } };
  emit();
}

/** Renews the tokens (rotating the refresh token); one renewal at a time. False: signed out. */
export function refresh(): Promise<boolean> {
  if (!session) return Promise.resolve(false);
  refreshing ??= (async () => {
    const current = session;
    if (!current) return false;
    try {
      // Not through call(): a refused refresh must not try to refresh again.
      const { data } = await api.POST('/api/v1/auth/refresh', { body: { refresh_token: current.refreshToken } });
      if (session !== current) return session !== null;
      if (!data) throw new Error('refresh refused');
      startSession(data, current.user);
      return true;
    } catch {
      clear();
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

setRefresher(refresh);

function clear(): void {
  if (timer) clearTimeout(timer);
  timer = null;
  session = null;
  setAccessToken(null);
  emit();
  for (const listener of signOutListeners) listener();
}

export async function signOut(): Promise<void> {
  const current = session;
  if (current) {
    // Revoke on the server first (best effort), then forget everything here.
    await api.POST('/api/v1/auth/logout', { body: { refresh_token: current.refreshToken } }).catch(() => undefined);
  }
  clear();
}
