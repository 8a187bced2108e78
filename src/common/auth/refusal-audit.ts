import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { normalizeIp } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { AuditService } from '#src/audit/audit.service.js';
import { Clock } from '#src/common/clock.js';
import { AuthFailureLimiter } from '#src/common/rate-limit/auth-failure-limiter.js';
import { AuthFailuresLimitedException } from '#src/common/rate-limit/auth-failure-limit.guard.js';
import { isAlreadyAudited } from './auth-errors.js';

const MINUTE_MS = 60_000;
const FLUSH_INTERVAL_MS = 10_000;

/** Refusals of one address in one minute, past its limit. */
interface Tally {
  address: string;
  ip: string;
  windowStart: number;
  count: number;
  codes: Record<string, number>;
}

/**
 * The audit of refused requests, in one place: the exception filter hands it every 401
 * and 403 answer, and the 429s of addresses past their limit of refusals.
 *
 * Each 401/403 counts towards its address's limit (AuthFailureLimiter). Up to the limit
 * it is recorded as it happens (`authn.failed` / `authz.denied`, the route and the code);
 * past it, it and the 429s that follow are only counted, and written as one
 * `authn.throttled` record per address and minute (`{count, window, codes}`), so a
 * flood adds a bounded number of rows.
 */
@Injectable()
export class RefusalAudit implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Audit');
  private readonly tallies = new Map<string, Tally>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly audit: AuditService,
    private readonly limiter: AuthFailureLimiter,
    private readonly clock: Clock,
  ) {
    this.timer = setInterval(
      () => void this.flush(false).catch((e: Error) => this.logger.warn(`refusal counts: ${e.message}`)),
      FLUSH_INTERVAL_MS,
    );
    this.timer.unref();
  }

  /**
   * Notes an error answer about to be sent. Answers a promise (to await before answering,
   * so the record is in when the client hears back) for the refusals it counts and
   * records; nothing for every other error.
   */
  refused(request: FastifyRequest, exception: unknown, status: number, code: string): Promise<void> | undefined {
    if (exception instanceof AuthFailuresLimitedException) {
      this.tally(request, code);
      return undefined;
    }
    if (status !== 401 && status !== 403) return undefined;
    return this.countAndRecord(request, exception, status, code);
  }

  /** Writes the counts of ended minutes, or (`all`) every count so far. */
  flush(all = true): Promise<void> {
    this.flushing = this.flushing.then(() => this.write(all));
    return this.flushing;
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async countAndRecord(request: FastifyRequest, exception: unknown, status: number, code: string) {
    const { overLimit } = await this.limiter.count(request);
    if (overLimit) return this.tally(request, code);
    if (isAlreadyAudited(exception)) return;
    const principal = request.principal;
    await this.audit.record({
      actorType: principal?.kind ?? 'anonymous',
      actorId: principal ? (principal.kind === 'user' ? principal.userId : principal.apiKeyId) : null,
      action: status === 403 ? 'authz.denied' : 'authn.failed',
      resource: 'route',
      resourceId: `${request.method} ${request.routeOptions.url}`,
      status: 'failure',
      details: { code },
    });
  }

  private tally(request: FastifyRequest, code: string): void {
    const address = normalizeIp(request.ip);
    const windowStart = Math.floor(this.clock.now().getTime() / MINUTE_MS) * MINUTE_MS;
    const key = `${address} ${windowStart}`;
    let tally = this.tallies.get(key);
    if (!tally) this.tallies.set(key, (tally = { address, ip: request.ip, windowStart, count: 0, codes: {} }));
    tally.count += 1;
    tally.codes[code] = (tally.codes[code] ?? 0) + 1;
  }

  private async write(all: boolean): Promise<void> {
    const current = Math.floor(this.clock.now().getTime() / MINUTE_MS) * MINUTE_MS;
    const due = [...this.tallies.entries()].filter(([, tally]) => all || tally.windowStart < current);
    for (const [key, tally] of due) {
      await this.audit.record({
        actorType: 'anonymous',
        action: 'authn.throttled',
        resource: 'address',
        resourceId: tally.address,
        status: 'failure',
        ip: tally.ip,
        userAgent: null,
        requestId: null,
        details: {
          count: tally.count,
          window: {
            from: new Date(tally.windowStart).toISOString(),
            to: new Date(tally.windowStart + MINUTE_MS).toISOString(),
          },
          codes: tally.codes,
        },
      });
      // Dropped once written: a failed write leaves the count for the next flush.
      this.tallies.delete(key);
    }
  }
}
