import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectThrottlerStorage, type ThrottlerStorage } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { ipTracker } from './rate-limit.trackers.js';

const WINDOW_MS = 60_000;
const THROTTLER = 'authFailures';
const SWEEP_MS = 60_000;

/**
 * Refused requests (401 and 403) per client address and minute, in the rate-limit storage
 * (Redis when set, so every instance adds to one count). An address that reaches
 * AUTH_FAILURES_PER_MINUTE (× RATE_LIMIT_MULTIPLIER) is refused before any credential is
 * tried, until its minute ends.
 *
 * That check costs no I/O: each instance remembers the addresses its counts found at the
 * limit. Another instance learns of one at the first failure it counts from it, which the
 * shared count answers at once — at most one more credential tried per instance.
 */
@Injectable()
export class AuthFailureLimiter implements OnApplicationShutdown {
  private readonly logger = new Logger('RateLimit');
  /** Address → when it may authenticate again (ms). */
  private readonly limited = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  get limit(): number {
    return this.config.rateLimit.authFailuresPerMinute * this.config.rateLimit.multiplier;
  }

  /** Seconds until the request's address may authenticate again; 0 when it may now. */
  retryAfter(request: FastifyRequest): number {
    if (this.limited.size === 0) return 0;
    const until = this.limited.get(ipTracker(request));
    if (until === undefined) return 0;
    const left = until - Date.now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** Counts one refusal of the request's address; answers whether that refusal was past the limit. */
  async count(request: FastifyRequest): Promise<{ overLimit: boolean }> {
    const address = ipTracker(request);
    try {
      const hit = await this.storage.increment(`authn:${address}`, WINDOW_MS, this.limit, 0, THROTTLER);
      if (hit.totalHits >= this.limit) {
        const seconds = hit.isBlocked ? hit.timeToBlockExpire : hit.timeToExpire;
        this.limited.set(address, Date.now() + Math.max(1, seconds) * 1000);
      }
      return { overLimit: hit.totalHits > this.limit };
    } catch (error) {
      // The storage being down must not turn a refusal into a 500.
      this.logger.warn(`counting an authentication failure: ${(error as Error).message}`);
      return { overLimit: false };
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [address, until] of this.limited) if (until <= now) this.limited.delete(address);
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }
}
