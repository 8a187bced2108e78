import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { Clock } from '#src/common/clock.js';
import { currentRequestContext } from '#src/common/request-context.js';
import type { DailyOtpStatsDto, EnhancedOtpStatsDto, OtpEventDto, OtpStatsDto } from './dto/otp-codes.dto.js';
import { OtpEvent, type OtpEventType } from './otp-event.entity.js';

const DAY_MS = 86_400_000;

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
    const createdAt = this.clock.now();
    await manager.insert(
      OtpEvent,
      configIds.map((configId) => ({
        userId,
        configId,
        eventType,
        drift,
        ip: context?.ip ?? null,
        userAgent: context?.userAgent?.slice(0, 512) ?? null,
        createdAt,
      })),
    );
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
    const totals = await this.stats(me);
    const today = Math.floor(this.clock.now().getTime() / DAY_MS) * DAY_MS;
    const since = new Date(today - 6 * DAY_MS);
    const rows = await this.dataSource.query<
      { day: string; generations: string; validations: string; successes: string }[]
    >(
      `SELECT to_char(date_trunc('day', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day,
              count(*) FILTER (WHERE event_type = 'generate') AS generations,
              count(*) FILTER (WHERE event_type <> 'generate') AS validations,
              count(*) FILTER (WHERE event_type = 'validate_success') AS successes
         FROM otp_events
        WHERE user_id = $1 AND created_at >= $2 AND created_at < $3
        GROUP BY 1`,
      [me.userId, since, new Date(today + DAY_MS)],
    );
    const byDay = new Map(rows.map((r) => [r.day, r]));
    const last7Days: DailyOtpStatsDto[] = Array.from({ length: 7 }, (_, i) => {
      const date = new Date(since.getTime() + i * DAY_MS).toISOString().slice(0, 10);
      const row = byDay.get(date);
      return {
        date,
        generations: Number(row?.generations ?? 0),
        validations: Number(row?.validations ?? 0),
        successful_validations: Number(row?.successes ?? 0),
      };
    });
    return {
      ...totals,
      success_rate: totals.total_validations === 0 ? null : totals.successful_validations / totals.total_validations,
      last_7_days: last7Days,
    };
  }
}
