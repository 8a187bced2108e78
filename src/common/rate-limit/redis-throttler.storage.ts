import type { OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';

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
}

/** @nestjs/throttler storage in Redis, so every instance counts against the same limits. */
export class RedisThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly hit: HitCommand;
  private readonly prefix: string;
  private readonly ownsClient: boolean;

  constructor(
    readonly client: Redis,
    options: RedisThrottlerStorageOptions = {},
  ) {
    this.prefix = options.prefix ?? 'otp:rl:';
    this.ownsClient = options.ownsClient ?? false;
    // defineCommand sends EVALSHA, falling back to EVAL once if the script is not cached.
    client.defineCommand(COMMAND, { numberOfKeys: 2, lua: HIT_SCRIPT });
    const commands = client as unknown as Record<typeof COMMAND, HitCommand>;
    this.hit = commands[COMMAND].bind(client);
  }

  /** `ttl` and `blockDuration` in ms, as the guard passes them; the answer in seconds, as it reads them. */
  async increment(
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

  async onApplicationShutdown(): Promise<void> {
    if (this.ownsClient && this.client.status !== 'end') await this.client.quit().catch(() => undefined);
  }
}

const toSeconds = (ms: number): number => Math.max(0, Math.ceil(ms / 1000));
