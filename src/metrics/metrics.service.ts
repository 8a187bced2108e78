import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '#src/common/clock.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import type { DailyUsageDto, MyMetricsDto, SystemMetricsDto } from './dto/metrics.dto.js';

const DAY_MS = 86_400_000;

type EventType = 'generate' | 'validate_success' | 'validate_failure';
interface EventCounts {
  generate: number;
  validate_success: number;
  validate_failure: number;
}

const rate = (success: number, failure: number): number | null =>
  success + failure === 0 ? null : success / (success + failure);

const countsOf = (rows: Array<{ event_type: EventType; count: number }>): EventCounts => {
  const counts: EventCounts = { generate: 0, validate_success: 0, validate_failure: 0 };
  for (const row of rows) counts[row.event_type] = row.count;
  return counts;
};

/**
 * Statistics read straight from the stored events and tables with plain SQL (each query
 * backed by an index, see the AuditQueryIndexes and StatsIndexes migrations), so this
 * module depends on no other module's entities.
 */
@Injectable()
export class MetricsService {
  private readonly logger = new Logger(MetricsService.name);
  private cached?: { at: number; value: SystemMetricsDto };
  private refreshing?: Promise<SystemMetricsDto>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async forUser(userId: string): Promise<MyMetricsDto> {
    const today = Math.floor(this.clock.now().getTime() / DAY_MS) * DAY_MS;
    const since = new Date(today - 6 * DAY_MS);
    const q = <T>(sql: string, params: unknown[]): Promise<T> => this.dataSource.query(sql, params);
    const [[configs], totals, daily] = await Promise.all([
      q<Array<{ total: number; active: number }>>(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE is_active)::int AS active
           FROM otp_configs WHERE owner_id = $1`,
        [userId],
      ),
      q<Array<{ event_type: EventType; count: number }>>(
        `SELECT event_type, count(*)::int AS count FROM otp_events WHERE user_id = $1 GROUP BY event_type`,
        [userId],
      ),
      q<Array<{ day: string; event_type: EventType; count: number }>>(
        `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, event_type, count(*)::int AS count
           FROM otp_events WHERE user_id = $1 AND created_at >= $2
          GROUP BY 1, 2`,
        [userId, since],
      ),
    ]);
    const days = new Map<string, DailyUsageDto>();
    for (let i = 0; i < 7; i++) {
      const date = new Date(since.getTime() + i * DAY_MS).toISOString().slice(0, 10);
      days.set(date, { date, generations: 0, validations: 0, successful_validations: 0, failed_validations: 0 });
    }
    for (const row of daily) {
      const day = days.get(row.day);
      if (!day) continue;
      if (row.event_type === 'generate') day.generations += row.count;
      else {
        day.validations += row.count;
        if (row.event_type === 'validate_success') day.successful_validations += row.count;
        else day.failed_validations += row.count;
      }
    }
    const counts = countsOf(totals);
    return {
      total_configs: configs.total,
      active_configs: configs.active,
      total_generations: counts.generate,
      total_validations: counts.validate_success + counts.validate_failure,
      successful_validations: counts.validate_success,
      failed_validations: counts.validate_failure,
      success_rate: rate(counts.validate_success, counts.validate_failure),
      last_7_days: [...days.values()],
    };
  }

  /**
   * System-wide figures. Concurrent calls share one computation; with METRICS_SYSTEM_CACHE_MS
   * set, figures are reused that long and then served stale while one refresh runs, so a
   * dashboard never waits on the aggregation over millions of events (0: always fresh).
   */
  systemFigures(): Promise<SystemMetricsDto> {
    const ttl = this.config.metricsSystemCacheMs;
    const cached = this.cached;
    if (ttl > 0 && cached && this.clock.now().getTime() - cached.at < ttl) return Promise.resolve(cached.value);
    this.refreshing ??= this.computeSystem()
      .then((value) => {
        this.cached = { at: this.clock.now().getTime(), value };
        return value;
      })
      .finally(() => (this.refreshing = undefined));
    if (ttl > 0 && cached) {
      this.refreshing.catch((error: unknown) => this.logger.error({ err: error }, 'system metrics refresh failed'));
      return Promise.resolve(cached.value);
    }
    return this.refreshing;
  }

  private async computeSystem(): Promise<SystemMetricsDto> {
    const now = this.clock.now();
    const dayAgo = new Date(now.getTime() - DAY_MS);
    const startOfDay = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
    const q = <T>(sql: string, params: unknown[] = []): Promise<T> => this.dataSource.query(sql, params);
    const [[users], configs, events, [devices], [keys], [keyUses], [logins], [apiKeys]] = await Promise.all([
      q<Array<{ total: number; active: number; active_today: number; mfa: number; locked: number }>>(
        `SELECT count(*)::int AS total,
                count(*) FILTER (WHERE is_active)::int AS active,
                count(*) FILTER (WHERE last_login_at >= $1)::int AS active_today,
                count(*) FILTER (WHERE mfa_enabled)::int AS mfa,
                count(*) FILTER (WHERE locked_until > $2)::int AS locked
           FROM users`,
        [startOfDay, now],
      ),
      q<Array<{ otp_type: string; total: number; active: number }>>(
        `SELECT otp_type, count(*)::int AS total, count(*) FILTER (WHERE is_active)::int AS active
           FROM otp_configs GROUP BY otp_type`,
      ),
      // One pass over the (event_type, created_at) index answers both all-time and 24 h counts.
      q<Array<{ event_type: EventType; count: number; recent: number }>>(
        `SELECT event_type, count(*)::int AS count, count(*) FILTER (WHERE created_at >= $1)::int AS recent
           FROM otp_events GROUP BY event_type`,
        [dayAgo],
      ),
      q<Array<{ total: number; active: number; verified: number }>>(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE is_active)::int AS active,
                count(*) FILTER (WHERE verified_at IS NOT NULL)::int AS verified
           FROM devices`,
      ),
      q<Array<{ total: number; depleted: number; expired: number }>>(
        `SELECT count(*)::int AS total,
                count(*) FILTER (WHERE max_uses <> -1 AND usage_count >= max_uses
                                   AND (expires_at IS NULL OR expires_at > $1))::int AS depleted,
                count(*) FILTER (WHERE expires_at <= $1)::int AS expired
           FROM usage_keys`,
        [now],
      ),
      q<Array<{ uses: number }>>(
        `SELECT count(*)::int AS uses FROM usage_key_events WHERE created_at >= $1 AND outcome = 'used'`,
        [dayAgo],
      ),
      q<Array<{ ok: number; failed: number }>>(
        `SELECT count(*) FILTER (WHERE status = 'success')::int AS ok,
                count(*) FILTER (WHERE status = 'failure'
                                   AND details->>'reason' IS DISTINCT FROM 'mfa_required')::int AS failed
           FROM audit_logs WHERE action = 'auth.login' AND created_at >= $1`,
        [dayAgo],
      ),
      q<Array<{ active: number }>>(
        `SELECT count(*)::int AS active FROM api_keys
          WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)`,
        [now],
      ),
    ]);
    const all = countsOf(events);
    const recent = countsOf(events.map((row) => ({ event_type: row.event_type, count: row.recent })));
    return {
      generated_at: now.toISOString(),
      users: { total: users.total, active: users.active, active_today: users.active_today },
      configurations: {
        total: configs.reduce((sum, row) => sum + row.total, 0),
        active: configs.reduce((sum, row) => sum + row.active, 0),
        by_type: { totp: 0, hotp: 0, ...Object.fromEntries(configs.map((row) => [row.otp_type, row.total])) },
      },
      otp_usage: {
        generations: all.generate,
        validations: all.validate_success + all.validate_failure,
        successful_validations: all.validate_success,
        failed_validations: all.validate_failure,
        success_rate: rate(all.validate_success, all.validate_failure),
      },
      devices,
      usage_keys: { ...keys, uses_24h: keyUses.uses },
      activity_24h: {
        logins: logins.ok,
        failed_logins: logins.failed,
        generations: recent.generate,
        validations: recent.validate_success + recent.validate_failure,
      },
      security: { mfa_enabled_users: users.mfa, locked_accounts: users.locked, active_api_keys: apiKeys.active },
    };
  }
}
