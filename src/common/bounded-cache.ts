/** Where a cache reads the time, milliseconds (the service clock in the app, a fake one in tests). */
export type Millis = () => number;

export interface BoundedCacheOptions {
  /** At most this many entries; the least recently used one goes first. */
  maxEntries: number;
  /** An entry is not served after this many milliseconds, whatever else happens. */
  ttlMs: number;
  now: Millis;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
  tags: readonly string[];
}

/**
 * An LRU map with a time to live and tags. Invalidating a tag drops every entry carrying it.
 *
 * A value read from the database before an invalidation must not be stored after it (it may
 * be the very state the invalidation announced gone), so a load takes a ticket first and
 * `set` stores only when nothing was invalidated or cleared since that ticket.
 */
export class BoundedCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly byTag = new Map<string, Set<string>>();
  private generation = 0;

  constructor(private readonly options: BoundedCacheOptions) {
    if (!(options.maxEntries >= 1) || !(options.ttlMs >= 0)) throw new Error('BoundedCache: bad bounds');
  }

  get size(): number {
    return this.entries.size;
  }

  /** Taken before the read whose result may be stored. */
  ticket(): number {
    return this.generation;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.options.now() >= entry.expiresAt) {
      this.remove(key, entry);
      return undefined;
    }
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores unless something was invalidated since `ticket`; answers whether it stored. */
  set(key: string, value: V, tags: readonly string[], ticket: number): boolean {
    if (ticket !== this.generation || this.options.ttlMs === 0) return false;
    const previous = this.entries.get(key);
    if (previous) this.remove(key, previous);
    this.entries.set(key, { value, expiresAt: this.options.now() + this.options.ttlMs, tags });
    for (const tag of tags) {
      let keys = this.byTag.get(tag);
      if (!keys) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
    while (this.entries.size > this.options.maxEntries) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry<V>];
      this.remove(oldestKey, oldest);
    }
    return true;
  }

  invalidateTag(tag: string): void {
    this.generation += 1;
    const keys = this.byTag.get(tag);
    if (!keys) return;
    for (const key of [...keys]) {
      const entry = this.entries.get(key);
      if (entry) this.remove(key, entry);
    }
    this.byTag.delete(tag);
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
    this.byTag.clear();
  }

  private remove(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    for (const tag of entry.tags) {
      const keys = this.byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.byTag.delete(tag);
    }
  }
}
