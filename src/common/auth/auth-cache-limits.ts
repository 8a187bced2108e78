/**
 * Bounds of the in-process caches of credential lookups (API keys by hash, sessions by id).
 * Invalidation is by notice (InvalidationChannel); the time to live is the safety net for a
 * notice that never arrives on a connection that looks alive, and the cap bounds memory.
 */
export const AUTH_CACHE_LIMITS = { maxEntries: 10_000, ttlMs: 2_000 } as const;
