/**
 * Size of each in-process cache of credential lookups (API keys by hash, sessions by id): the
 * least recently used entry goes first. Invalidation is by notice (InvalidationChannel); the
 * time to live (AUTH_CACHE_TTL_MS) is the safety net for a notice that never arrives.
 */
export const AUTH_CACHE_MAX_ENTRIES = 10_000;
