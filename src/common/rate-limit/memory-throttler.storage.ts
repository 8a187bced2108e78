import type { OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from './redis-throttler.storage.js';

interface Entry {
  hits: number;
  windowEndsAt: number;
  blockEndsAt: number;
  /** The hits that tripped the block, reported while it lasts. */
  blockHits: number;
}

const SWEEP_MS = 60_000;

/**
 * The Redis storage's fixed-window rules, in one process's memory: O(1) per hit.
 * (@nestjs/throttler's own storage keeps a timestamp per hit and filters them all on every
 * request, which costs O(hits in the window) and drags a busy instance down.)
 */
export class MemoryThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const now = this.now();
    const id = `${throttlerName}:${key}`;
    let entry = this.entries.get(id);
    if (entry && entry.blockEndsAt > now) {
      return record(entry.blockHits, entry.windowEndsAt - now, entry.blockEndsAt - now);
    }
    // A new window, or a lapsed block: the count starts over.
    if (!entry || entry.windowEndsAt <= now || entry.hits > limit) {
      entry = { hits: 0, windowEndsAt: now + Math.max(1, ttl), blockEndsAt: 0, blockHits: 0 };
      this.entries.set(id, entry);
    }
    entry.hits += 1;
    const windowLeft = entry.windowEndsAt - now;
    if (entry.hits <= limit) return record(entry.hits, windowLeft, 0);
    const block = blockDuration > 0 ? blockDuration : windowLeft;
    entry.blockEndsAt = now + block;
    entry.blockHits = entry.hits;
    return record(entry.hits, windowLeft, block);
  }

  /** Drops what can no longer matter, so memory follows the active callers only. */
  sweep(): void {
    const now = this.now();
    for (const [id, entry] of this.entries) {
      if (entry.windowEndsAt <= now && entry.blockEndsAt <= now) this.entries.delete(id);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
    this.entries.clear();
  }
}

const toSeconds = (ms: number): number => Math.max(0, Math.ceil(ms / 1000));

function record(totalHits: number, windowLeftMs: number, blockLeftMs: number): Promise<ThrottlerStorageRecord> {
  return Promise.resolve({
    totalHits,
    timeToExpire: toSeconds(windowLeftMs),
    isBlocked: blockLeftMs > 0,
    timeToBlockExpire: toSeconds(blockLeftMs),
  });
}
