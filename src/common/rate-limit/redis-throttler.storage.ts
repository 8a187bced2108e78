import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { MemoryThrottlerStorage } from './memory-throttler.storage.js';

/** What the throttler guard reads back from a storage; times in seconds. */
export interface ThrottlerStorageRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

/**
 * One atomic step per request, so concurrent instances never lose or double a hit.
 * KEYS: hit counter, block marker (holding the hits that tripped it).
 * ARGV: window ms, limit, block ms (0: until the window ends). Returns hits, window ms, block ms.
 * Mirrors the in-memory ThrottlerStorageService: refused hits are not counted, and once a
 * block lapses the count starts over.
 */
const HIT_SCRIPT = `
local window, limit, block = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local blockTtl = redis.call('PTTL', KEYS[2])
if blockTtl > 0 then
  return { tonumber(redis.call('GET', KEYS[2])), math.max(redis.call('PTTL', KEYS[1]), 0), blockTtl }
end
local hits = redis.call('INCR', KEYS[1])
if hits > limit + 1 then
  -- Only a lapsed block leaves the counter past limit + 1.
  redis.call('SET', KEYS[1], 1, 'PX', window)
  hits = 1
elseif hits == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], window)
end
local ttl = redis.call('PTTL', KEYS[1])
if hits <= limit then return { hits, ttl, 0 } end
if block <= 0 then block = ttl end
redis.call('SET', KEYS[2], hits, 'PX', block)
return { hits, ttl, block }
`;

const COMMAND = 'otpRateLimitHit';

type HitCommand = (
  hitsKey: string,
  blockKey: string,
  windowMs: number,
  limit: number,
  blockMs: number,
) => Promise<[number, number, number]>;

export interface RedisThrottlerStorageOptions {
  /** Prepended to every key. */
  prefix?: string;
  /** Quit the client on application shutdown (set when the client was made for this storage). */
  ownsClient?: boolean;
  /** Counts while Redis cannot answer; a MemoryThrottlerStorage unless given. */
  fallback?: ThrottlerStorage & Partial<OnApplicationShutdown>;
  /** Called once each time the storage falls back to the fallback (the start of an outage). */
  onFallback?: () => void;
  /** While falling back on a connection that still looks open, how often a PING checks Redis, ms. */
  probeIntervalMs?: number;
}

/**
 * @nestjs/throttler storage in Redis, so every instance counts against the same limits.
 * Redis is an accelerator, not a dependency: when a step fails (connection lost, timeout,
 * no connection) the storage counts in its fallback, per instance, and keeps doing so
 * without asking Redis until the client is ready again (ioredis reconnects by itself, and a
 * periodic PING covers a connection that stays open but stops answering). One warning per
 * outage, one line when it ends.
 */
export class RedisThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly hit: HitCommand;
  private readonly prefix: string;
  private readonly ownsClient: boolean;
  private readonly fallback: ThrottlerStorage & Partial<OnApplicationShutdown>;
  private readonly onFallback: () => void;
  private readonly probeIntervalMs: number;
  private readonly logger = new Logger('RateLimit');
  private readonly listeners: Record<'ready' | 'error', (error?: Error) => void>;
  /** Set from the first failure until Redis answers again: counts go to the fallback. */
  private outage = false;
  private probe?: NodeJS.Timeout;
  private closing = false;

  constructor(
    readonly client: Redis,
    options: RedisThrottlerStorageOptions = {},
  ) {
    this.prefix = options.prefix ?? 'otp:rl:';
    this.ownsClient = options.ownsClient ?? false;
    this.fallback = options.fallback ?? new MemoryThrottlerStorage();
    this.onFallback = options.onFallback ?? (() => undefined);
    this.probeIntervalMs = options.probeIntervalMs ?? 1000;
    // defineCommand sends EVALSHA, falling back to EVAL once if the script is not cached.
    client.defineCommand(COMMAND, { numberOfKeys: 2, lua: HIT_SCRIPT });
    const commands = client as unknown as Record<typeof COMMAND, HitCommand>;
    this.hit = commands[COMMAND].bind(client);
    // 'error' comes with every failed (re)connection, so an outage is noticed without traffic;
    // the listener also keeps ioredis from printing each failure itself. A request during an
    // outage fails at once (no offline queue), which is noticed too.
    this.listeners = {
      ready: () => this.recovered(),
      error: (error) => this.fallBack(error?.message ?? 'connection error'),
    };
    for (const [event, listener] of Object.entries(this.listeners)) client.on(event, listener);
  }

  /** True while counts go to Redis (shared by every instance); false while they stay in this process. */
  get shared(): boolean {
    return !this.outage;
  }

  /** `ttl` and `blockDuration` in ms, as the guard passes them; the answer in seconds, as it reads them. */
  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    if (!this.outage) {
      try {
        return await this.incrementInRedis(key, ttl, limit, blockDuration, throttlerName);
      } catch (error) {
        this.fallBack((error as Error).message);
      }
    }
    return this.fallback.increment(key, ttl, limit, blockDuration, throttlerName);
  }

  /**
   * Marks Redis unreachable at start-up when the client is not ready within `timeoutMs`
   * (the app starts anyway, counting in memory).
   */
  async waitUntilReady(timeoutMs: number): Promise<void> {
    if (this.connected) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.client.once('ready', done);
    });
    if (!this.connected) this.fallBack(`not ready within ${timeoutMs} ms at start-up`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.probe);
    for (const [event, listener] of Object.entries(this.listeners)) this.client.off(event, listener);
    await this.fallback.onApplicationShutdown?.();
    if (this.ownsClient && this.client.status !== 'end') {
      // Keep one listener so a late connection error is not printed by ioredis.
      this.client.on('error', () => undefined);
      await this.client.quit().catch(() => undefined);
    }
  }

  private get connected(): boolean {
    return this.client.status === 'ready';
  }

  private async incrementInRedis(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    // The hash tag keeps both keys in one Redis Cluster slot, as a script needs.
    const base = `${this.prefix}{${throttlerName}:${key}}`;
    const windowMs = Math.max(1, Math.ceil(ttl));
    const blockMs = Math.max(0, Math.ceil(blockDuration));
    const [totalHits, expireMs, blockLeftMs] = await this.hit(
      `${base}:hits`,
      `${base}:block`,
      windowMs,
      limit,
      blockMs,
    );
    return {
      totalHits,
      timeToExpire: toSeconds(expireMs),
      isBlocked: blockLeftMs > 0,
      timeToBlockExpire: toSeconds(blockLeftMs),
    };
  }

  private fallBack(reason: string): void {
    if (this.outage || this.closing) return;
    this.outage = true;
    this.onFallback();
    this.logger.warn(`Redis unavailable (${reason}): rate limits counted in this instance's memory until it is back`);
    // A connection that closed comes back through ioredis's reconnect ('ready'); one that stays
    // open but timed out only shows it answers again when asked.
    this.probe = setInterval(() => {
      if (!this.connected) return;
      this.client.ping().then(
        () => this.recovered(),
        () => undefined,
      );
    }, this.probeIntervalMs);
    this.probe.unref();
  }

  private recovered(): void {
    if (!this.outage || this.closing) return;
    this.outage = false;
    clearInterval(this.probe);
    this.probe = undefined;
    this.logger.log('Redis reachable again: rate limits shared through Redis');
  }
}

const toSeconds = (ms: number): number => Math.max(0, Math.ceil(ms / 1000));
