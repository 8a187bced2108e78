import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';

/** Which kind of credential an OTP verification checked. */
export type OtpVerificationKind = 'config' | 'device' | 'usage_key' | 'mfa' | 'recovery_code';
export type OtpVerificationOutcome = 'success' | 'failure' | 'locked' | 'replay';
export type KeyUseOutcome = 'used' | 'depleted' | 'expired' | 'unknown';

/** The pg pool behind TypeORM's Postgres driver (only the counters read here). */
interface PgPoolStats {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/**
 * The service's Prometheus metrics, in a registry of its own (not prom-client's global one,
 * so several applications in one process never clash). Modules inject this and call the
 * small recording methods; label values come from closed sets, never from callers' input.
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  /** One bound child per (method, route, status): observing skips label hashing on the hot path. */
  private readonly httpChildren = new Map<string, Histogram.Internal<'method' | 'route' | 'status_code'>>();

  private readonly otpVerifications = new Counter({
    name: 'otp_verifications_total',
    help: 'OTP verifications by credential kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly keyUses = new Counter({
    name: 'usage_key_uses_total',
    help: 'Attempts to use a usage-limited key, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly logins = new Counter({
    name: 'auth_logins_total',
    help: 'Sign-in attempts by outcome (success, mfa_required, or the refusal reason)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly rateLimitFallbacks = new Counter({
    name: 'rate_limit_store_fallback_total',
    help: 'Times the rate-limit store fell back from Redis to per-instance memory (one per outage)',
    registers: [this.registry],
  });

  constructor(@InjectDataSource() dataSource: DataSource) {
    collectDefaultMetrics({ register: this.registry });
    const pool = (): PgPoolStats | undefined => (dataSource.driver as unknown as { master?: PgPoolStats }).master;
    const poolGauge = (name: string, help: string, read: (p: PgPoolStats) => number): void => {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const stats = pool();
          if (stats) this.set(read(stats));
        },
      });
    };
    poolGauge('db_pool_connections_total', 'Database pool connections open', (p) => p.totalCount);
    poolGauge('db_pool_connections_idle', 'Database pool connections idle', (p) => p.idleCount);
    poolGauge('db_pool_requests_waiting', 'Queries waiting for a pool connection', (p) => p.waitingCount);
  }

  observeHttp(method: string, route: string, statusCode: number, seconds: number): void {
    const key = `${method} ${route} ${statusCode}`;
    let child = this.httpChildren.get(key);
    if (!child) {
      child = this.httpDuration.labels(method, route, String(statusCode));
      this.httpChildren.set(key, child);
    }
    child.observe(seconds);
  }

  otpVerification(kind: OtpVerificationKind, outcome: OtpVerificationOutcome): void {
    this.otpVerifications.inc({ kind, outcome });
  }

  keyUse(outcome: KeyUseOutcome): void {
    this.keyUses.inc({ outcome });
  }

  login(outcome: string): void {
    this.logins.inc({ outcome });
  }

  rateLimitStoreFallback(): void {
    this.rateLimitFallbacks.inc();
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
