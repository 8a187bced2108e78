import { Inject, Injectable, Logger } from '@nestjs/common';
import { ApiKeysService } from '#src/api-keys/api-keys.service.js';
import { AuthService } from '#src/auth/auth.service.js';
import { Clock } from '#src/common/clock.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { DevicesService } from '#src/devices/devices.service.js';
import { UsageKeysService } from '#src/keys/usage-keys.service.js';
import { OtpEventsService, successRate } from '#src/otp-configs/otp-events.service.js';
import { UsersService } from '#src/users/users.service.js';
import type { MyMetricsDto, SystemMetricsDto } from './dto/metrics.dto.js';

const DAY_MS = 86_400_000;

/**
 * Statistics composed from the figures each module answers for its own tables (this module
 * reads none): one or two statements per module, all run at once, each backed by an index
 * (see the AuditQueryIndexes and StatsIndexes migrations).
 */
@Injectable()
export class MetricsService {
  private readonly logger = new Logger(MetricsService.name);
  private cached?: { at: number; value: SystemMetricsDto };
  private refreshing?: Promise<SystemMetricsDto>;

  constructor(
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly otpEvents: OtpEventsService,
    private readonly devices: DevicesService,
    private readonly usageKeys: UsageKeysService,
    private readonly apiKeys: ApiKeysService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The person's figures: the same statement as `otp/stats/enhanced` (OtpEventsService.ownerUsage). */
  async forUser(userId: string): Promise<MyMetricsDto> {
    const usage = await this.otpEvents.ownerUsage(userId);
    const { totals } = usage;
    return {
      total_configs: usage.configs.total,
      active_configs: usage.configs.active,
      total_generations: totals.generate,
      total_validations: totals.validate_success + totals.validate_failure,
      successful_validations: totals.validate_success,
      failed_validations: totals.validate_failure,
      success_rate: successRate(totals),
      last_7_days: usage.days.map((day) => ({
        date: day.date,
        generations: day.generate,
        validations: day.validate_success + day.validate_failure,
        successful_validations: day.validate_success,
        failed_validations: day.validate_failure,
      })),
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
    const [users, otp, devices, keys, logins, apiKeys] = await Promise.all([
      this.users.figures(now, startOfDay),
      this.otpEvents.systemFigures(dayAgo),
      this.devices.figures(),
      this.usageKeys.figures(now, dayAgo),
      this.auth.loginFigures(dayAgo),
      this.apiKeys.figures(now),
    ]);
    const { all, recent } = otp;
    return {
      generated_at: now.toISOString(),
      users: { total: users.total, active: users.active, active_today: users.active_today },
      configurations: otp.configurations,
      otp_usage: {
        generations: all.generate,
        validations: all.validate_success + all.validate_failure,
        successful_validations: all.validate_success,
        failed_validations: all.validate_failure,
        success_rate: successRate(all),
      },
      devices,
      usage_keys: { total: keys.total, depleted: keys.depleted, expired: keys.expired, uses_24h: keys.uses },
      activity_24h: {
        logins: logins.logins,
        failed_logins: logins.failed_logins,
        generations: recent.generate,
        validations: recent.validate_success + recent.validate_failure,
      },
      security: {
        mfa_enabled_users: users.mfa_enabled,
        locked_accounts: users.locked,
        active_api_keys: apiKeys.active,
      },
    };
  }
}
