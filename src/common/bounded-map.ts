/**
 * A map of at most `capacity` entries, for what a process remembers to skip work (never for
 * what correctness depends on): setting a key makes it the newest, and past the capacity the
 * oldest entry goes first.
 */
export class BoundedMap<V> {
  private readonly entries = new Map<string, V>();

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error('BoundedMap: capacity must be at least 1');
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    // Deleted first, so Map's insertion order keeps the newest last.
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, value);
  }
}
