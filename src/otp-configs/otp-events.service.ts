import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { Clock } from '#src/common/clock.js';
import { currentRequestContext } from '#src/common/request-context.js';
import type { EnhancedOtpStatsDto, OtpEventDto, OtpStatsDto } from './dto/otp-codes.dto.js';
import type { OtpEventType } from './otp-event.entity.js';

const DAY_MS = 86_400_000;

const RECORD_EVENTS = `INSERT INTO otp_events (user_id, config_id, event_type, drift, ip, user_agent, created_at)
  SELECT $1, config_id, $3, $4, $5, $6, $7 FROM unnest($2::uuid[]) AS config_id`;

/** The generation and validation history of a person's configurations, and its statistics. Never codes. */
@Injectable()
export class OtpEventsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Records events (one row per config) with the request's address and agent. */
  async record(
    manager: EntityManager,
    userId: string,
    eventType: OtpEventType,
    configIds: readonly string[],
    drift: number | null = null,
  ): Promise<void> {
    if (configIds.length === 0) return;
    const context = currentRequestContext();
    // One statement for any number of configurations (a live-codes view records one per account).
    await manager.query(RECORD_EVENTS, [
      userId,
      configIds,
      eventType,
      drift,
      context?.ip ?? null,
      context?.userAgent?.slice(0, 512) ?? null,
      this.clock.now(),
    ]);
  }

  async recent(me: UserPrincipal, limit: number): Promise<OtpEventDto[]> {
    const rows = await this.dataSource.query<
      {
        id: string;
        config_id: string | null;
        config_name: string | null;
        event_type: string;
        drift: number | null;
        ip: string | null;
        user_agent: string | null;
        created_at: Date;
      }[]
    >(
      `SELECT e.id, e.config_id, c.name AS config_name, e.event_type, e.drift, e.ip, e.user_agent, e.created_at
         FROM otp_events e LEFT JOIN otp_configs c ON c.id = e.config_id
        WHERE e.user_id = $1
        ORDER BY e.created_at DESC, e.id DESC
        LIMIT $2`,
      [me.userId, limit],
    );
    return rows.map((r) => ({ ...r, id: String(r.id), created_at: r.created_at.toISOString() }));
  }

  async stats(me: UserPrincipal): Promise<OtpStatsDto> {
    const [row] = await this.dataSource.query<Record<keyof OtpStatsDto, string>[]>(
      `SELECT (SELECT count(*) FROM otp_configs WHERE owner_id = $1) AS total_configs,
              (SELECT count(*) FROM otp_configs WHERE owner_id = $1 AND is_active) AS active_configs,
              count(*) FILTER (WHERE event_type = 'generate') AS total_generations,
              count(*) FILTER (WHERE event_type <> 'generate') AS total_validations,
              count(*) FILTER (WHERE event_type = 'validate_success') AS successful_validations
         FROM otp_events WHERE user_id = $1`,
      [me.userId],
    );
    return {
      total_configs: Number(row.total_configs),
      active_configs: Number(row.active_configs),
      total_generations: Number(row.total_generations),
      total_validations: Number(row.total_validations),
      successful_validations: Number(row.successful_validations),
    };
  }

  /** The totals plus the success rate and the last 7 UTC days, oldest first, days without events as zeros. */
  async enhancedStats(me: UserPrincipal): Promise<EnhancedOtpStatsDto> {
    const usage = await this.ownerUsage(me.userId);
    const validations = usage.totals.validate_success + usage.totals.validate_failure;
    return {
      total_configs: usage.configs.total,
      active_configs: usage.configs.active,
      total_generations: usage.totals.generate,
      total_validations: validations,
      successful_validations: usage.totals.validate_success,
      success_rate: successRate(usage.totals),
      last_7_days: usage.days.map((day) => ({
        date: day.date,
        generations: day.generate,
        validations: day.validate_success + day.validate_failure,
        successful_validations: day.validate_success,
      })),
    };
  }

  /**
   * A person's configurations and their use: all-time event counts and the last 7 UTC days
   * (today included, oldest first, days without events as zeros). One statement; it answers
   * both `otp/stats/enhanced` and `metrics/me`.
   */
  async ownerUsage(userId: string): Promise<OwnerUsage> {
    const today = Math.floor(this.clock.now().getTime() / DAY_MS) * DAY_MS;
    const since = new Date(today - 6 * DAY_MS);
    const [row] = await this.dataSource.query<
      {
        total_configs: number;
        active_configs: number;
        totals: Array<{ event_type: OtpEventType; count: number }>;
        daily: Array<{ day: string; event_type: OtpEventType; count: number }>;
      }[]
    >(
      `SELECT (SELECT count(*)::int FROM otp_configs WHERE owner_id = $1) AS total_configs,
              (SELECT count(*)::int FROM otp_configs WHERE owner_id = $1 AND is_active) AS active_configs,
              (SELECT coalesce(json_agg(t), '[]'::json) FROM (
                 SELECT event_type, count(*)::int AS count FROM otp_events WHERE user_id = $1 GROUP BY event_type) t
              ) AS totals,
              (SELECT coalesce(json_agg(d), '[]'::json) FROM (
                 SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, event_type, count(*)::int AS count
                   FROM otp_events WHERE user_id = $1 AND created_at >= $2 AND created_at < $3
                  GROUP BY 1, 2) d
              ) AS daily`,
      [userId, since, new Date(today + DAY_MS)],
    );
    const days = new Map<string, DailyEventCounts>();
    for (let i = 0; i < 7; i++) {
      const date = new Date(since.getTime() + i * DAY_MS).toISOString().slice(0, 10);
      days.set(date, { date, ...noEvents() });
    }
    for (const { day, event_type, count } of row.daily) {
      const counts = days.get(day);
      if (counts) counts[event_type] += count;
    }
    return {
      configs: { total: row.total_configs, active: row.active_configs },
      totals: eventCounts(row.totals),
      days: [...days.values()],
    };
  }

  /**
   * System-wide figures for metrics/system: configurations by type, and event counts all-time
   * and since `recentSince` (one pass over the (event_type, created_at) index answers both).
   * Two statements, run at once.
   */
  async systemFigures(recentSince: Date): Promise<OtpSystemFigures> {
    const [configs, events] = await Promise.all([
      this.dataSource.query<Array<{ otp_type: string; total: number; active: number }>>(
        `SELECT otp_type, count(*)::int AS total, count(*) FILTER (WHERE is_active)::int AS active
           FROM otp_configs GROUP BY otp_type`,
      ),
      this.dataSource.query<Array<{ event_type: OtpEventType; count: number; recent: number }>>(
        `SELECT event_type, count(*)::int AS count, count(*) FILTER (WHERE created_at >= $1)::int AS recent
           FROM otp_events GROUP BY event_type`,
        [recentSince],
      ),
    ]);
    return {
      configurations: {
        total: configs.reduce((sum, row) => sum + row.total, 0),
        active: configs.reduce((sum, row) => sum + row.active, 0),
        by_type: { totp: 0, hotp: 0, ...Object.fromEntries(configs.map((row) => [row.otp_type, row.total])) },
      },
      all: eventCounts(events),
      recent: eventCounts(events.map((row) => ({ event_type: row.event_type, count: row.recent }))),
    };
  }
}

/** Events of each type. */
export type EventCounts = Record<OtpEventType, number>;

export interface DailyEventCounts extends EventCounts {
  /** The UTC day, YYYY-MM-DD. */
  date: string;
}

export interface OwnerUsage {
  configs: { total: number; active: number };
  totals: EventCounts;
  /** The last 7 UTC days, today included, oldest first. */
  days: DailyEventCounts[];
}

export interface OtpSystemFigures {
  configurations: { total: number; active: number; by_type: Record<string, number> };
  all: EventCounts;
  recent: EventCounts;
}

const noEvents = (): EventCounts => ({ generate: 0, validate_success: 0, validate_failure: 0 });

function eventCounts(rows: ReadonlyArray<{ event_type: OtpEventType; count: number }>): EventCounts {
  const counts = noEvents();
  for (const row of rows) counts[row.event_type] = row.count;
  return counts;
}

/** Successful / all validations, null without any. */
export function successRate(counts: EventCounts): number | null {
  const all = counts.validate_success + counts.validate_failure;
  return all === 0 ? null : counts.validate_success / all;
}
