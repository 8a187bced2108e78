import { Injectable } from '@nestjs/common';
import { AuditQueryService } from '#src/audit/audit-query.service.js';
import type { AuditTimelineDto } from '#src/audit/dto/audit.dto.js';
import { AuthService } from '#src/auth/auth.service.js';
import type { ChangePasswordDto, MfaEnabledDto, MfaEnrolmentDto } from '#src/auth/dto/auth.dto.js';
import { MfaService } from '#src/auth/mfa.service.js';
import { alreadyAudited, unauthenticated } from '#src/common/auth/auth-errors.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { Clock } from '#src/common/clock.js';
import { MetricsService } from '#src/metrics/metrics.service.js';
import type { OtpStatsDto } from '#src/otp-configs/dto/otp-codes.dto.js';
import type { CreateOtpConfigDto, UpdateOtpConfigDto } from '#src/otp-configs/dto/otp-config.dto.js';
import { OtpCodesService } from '#src/otp-configs/otp-codes.service.js';
import { configNotFound, OtpConfigsService } from '#src/otp-configs/otp-configs.service.js';
import { OtpEventsService } from '#src/otp-configs/otp-events.service.js';
import type { RegisterDto } from '#src/users/dto/user.dto.js';
import { UsersService } from '#src/users/users.service.js';
import type {
  BearerTokenDto,
  CreatedMicroserviceOtpConfigDto,
  MicroserviceAuditLogDto,
  MicroserviceBulkDto,
  MicroserviceBulkItemDto,
  MicroserviceEnhancedStatsDto,
  MicroserviceEventDto,
  MicroserviceGenerateDto,
  MicroserviceGeneratedDto,
  MicroserviceMfaDisableDto,
  MicroserviceOtpConfigDto,
  MicroserviceSystemMetricsDto,
  MicroserviceUserDto,
  MicroserviceUserMetricsDto,
  MicroserviceValidateDto,
  MicroserviceValidationDto,
  SkipLimitQueryDto,
  TokenRequestDto,
} from './dto/otp-microservice.dto.js';
import { IntegerIdsRepository } from './integer-ids.repository.js';
import {
  percentage,
  toCreatedMicroserviceConfig,
  toMicroserviceAuditLog,
  toMicroserviceConfig,
  toMicroserviceEvent,
  toMicroserviceUser,
} from './otp-microservice.mapper.js';

/**
 * The replaced OTP microservice's operations, translated: integer ids to uuids and back,
 * its field names and answer shapes. Every rule (lockout, MFA, tenancy, replay, locks,
 * audit) is the called service's; nothing here decides who may do what.
 */
@Injectable()
export class OtpMicroserviceService {
  constructor(
    private readonly auth: AuthService,
    private readonly mfa: MfaService,
    private readonly users: UsersService,
    private readonly configs: OtpConfigsService,
    private readonly codes: OtpCodesService,
    private readonly events: OtpEventsService,
    private readonly metrics: MetricsService,
    private readonly auditQuery: AuditQueryService,
    private readonly ids: IntegerIdsRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * The OAuth2 password grant over the service's sign-in. The old clients know no
   * "send the MFA code" answer: a missing code is a 401 (audited by the sign-in itself).
   */
  async token(dto: TokenRequestDto): Promise<BearerTokenDto> {
    const signedIn = await this.auth.login({ username: dto.username, password: dto.password, mfa_code: dto.mfa_code });
    if (signedIn.mfa_required) {
      throw alreadyAudited(unauthenticated('MFA_CODE_REQUIRED', 'MFA code required'));
    }
    return {
      access_token: signedIn.access_token,
      token_type: 'bearer',
      refresh_token: signedIn.refresh_token,
      expires_in: signedIn.expires_in,
    };
  }

  async signUp(dto: RegisterDto): Promise<MicroserviceUserDto> {
    const user = await this.users.register(dto);
    return toMicroserviceUser(user, await this.ids.userNumber(user.id));
  }

  async me(me: UserPrincipal): Promise<MicroserviceUserDto> {
    const user = await this.users.getById(me.userId);
    return toMicroserviceUser(user, await this.ids.userNumber(user.id));
  }

  async listConfigs(me: UserPrincipal, query: SkipLimitQueryDto): Promise<MicroserviceOtpConfigDto[]> {
    const page = await this.configs.list(me, { limit: query.limit, offset: query.skip });
    // Oldest first, so configurations first seen together are numbered in the order they were made.
    const numbers = await this.ids.configNumbers(me.userId, page.items.map((c) => c.id).reverse());
    return page.items.flatMap((c) => {
      const number = numbers.get(c.id);
      return number === undefined ? [] : [toMicroserviceConfig(c, number)];
    });
  }

  async createConfig(me: UserPrincipal, dto: CreateOtpConfigDto): Promise<CreatedMicroserviceOtpConfigDto> {
    const created = await this.configs.create(me, dto);
    return toCreatedMicroserviceConfig(created, await this.configNumber(me, created.id));
  }

  async getConfig(me: UserPrincipal, number: number): Promise<MicroserviceOtpConfigDto> {
    return toMicroserviceConfig(await this.configs.get(me, await this.configId(me, number)), number);
  }

  async updateConfig(me: UserPrincipal, number: number, dto: UpdateOtpConfigDto): Promise<MicroserviceOtpConfigDto> {
    return toMicroserviceConfig(await this.configs.update(me, await this.configId(me, number), dto), number);
  }

  async deleteConfig(me: UserPrincipal, number: number): Promise<void> {
    await this.configs.delete(me, await this.configId(me, number));
  }

  async generate(me: UserPrincipal, dto: MicroserviceGenerateDto): Promise<MicroserviceGeneratedDto> {
    const {
      code,
      config_id: _,
      ...rest
    } = await this.codes.generate(me, {
      config_id: await this.configId(me, dto.config_id),
      counter_increment: dto.counter_increment,
    });
    return { otp_code: code, config_id: dto.config_id, ...rest };
  }

  async validate(me: UserPrincipal, dto: MicroserviceValidateDto): Promise<MicroserviceValidationDto> {
    const { config_id: _, ...result } = await this.codes.validate(me, {
      config_id: await this.configId(me, dto.config_id),
      otp_code: dto.otp_code,
    });
    return { ...result, config_id: dto.config_id };
  }

  /** Numbers that name none of the caller's configurations answer CONFIG_NOT_FOUND in their place. */
  async bulkGenerate(me: UserPrincipal, numbers: number[]): Promise<MicroserviceBulkDto> {
    const idsByNumber = await this.ids.configIdsOf(me.userId, numbers);
    if (idsByNumber.size === 0) {
      return {
        results: numbers.map((n) => ({ config_id: n, error: 'CONFIG_NOT_FOUND' })),
        generated_at: this.clock.now().toISOString(),
      };
    }
    const bulk = await this.codes.bulkGenerate(me, [...idsByNumber.values()]);
    const byId = new Map(bulk.results.map((r) => [r.config_id, r]));
    const results = numbers.map((n): MicroserviceBulkItemDto => {
      const item = byId.get(idsByNumber.get(n) ?? '');
      if (!item) return { config_id: n, error: 'CONFIG_NOT_FOUND' };
      const { code, config_id: _, ...rest } = item;
      return { config_id: n, ...(code === undefined ? {} : { otp_code: code }), ...rest };
    });
    return { results, generated_at: bulk.generated_at };
  }

  stats(me: UserPrincipal): Promise<OtpStatsDto> {
    return this.events.stats(me);
  }

  /** As the service's, with the success rate as a percentage and the failures counted. */
  async enhancedStats(me: UserPrincipal): Promise<MicroserviceEnhancedStatsDto> {
    const stats = await this.events.enhancedStats(me);
    return {
      ...stats,
      failed_validations: stats.total_validations - stats.successful_validations,
      success_rate: percentage(stats.success_rate),
    };
  }

  async recentEvents(me: UserPrincipal, limit: number): Promise<MicroserviceEventDto[]> {
    const events = await this.events.recent(me, limit);
    const configIds = events.flatMap((e) => (e.config_id ? [e.config_id] : []));
    const numbers = await this.ids.configNumbers(me.userId, configIds);
    return events.map((e) => toMicroserviceEvent(e, e.config_id ? (numbers.get(e.config_id) ?? null) : null));
  }

  async userMetrics(me: UserPrincipal): Promise<MicroserviceUserMetricsDto> {
    const metrics = await this.metrics.forUser(me.userId);
    return { ...metrics, success_rate: percentage(metrics.success_rate) };
  }

  async systemMetrics(): Promise<MicroserviceSystemMetricsDto> {
    const figures = await this.metrics.systemFigures();
    return {
      total_users: figures.users.total,
      active_users: figures.users.active,
      total_otp_configs: figures.configurations.total,
      active_otp_configs: figures.configurations.active,
      otp_configs_by_type: figures.configurations.by_type,
      total_generations: figures.otp_usage.generations,
      total_validations: figures.otp_usage.validations,
      successful_validations: figures.otp_usage.successful_validations,
      failed_validations: figures.otp_usage.failed_validations,
      success_rate: percentage(figures.otp_usage.success_rate),
      logins_24h: figures.activity_24h.logins,
      failed_logins_24h: figures.activity_24h.failed_logins,
      mfa_enabled_users: figures.security.mfa_enabled_users,
      locked_accounts: figures.security.locked_accounts,
      generated_at: figures.generated_at,
    };
  }

  /** Newest first, as a bare list; `user_id` is the acting user's number when it has one. */
  async auditLogs(query: SkipLimitQueryDto): Promise<MicroserviceAuditLogDto[]> {
    const page = await this.auditQuery.list({ limit: query.limit, offset: query.skip });
    const userIds = page.items.flatMap((r) => (r.actor_type === 'user' && r.actor_id ? [r.actor_id] : []));
    const numbers = await this.ids.existingUserNumbers([...new Set(userIds)]);
    return page.items.map((r) =>
      toMicroserviceAuditLog(r, r.actor_type === 'user' && r.actor_id ? (numbers.get(r.actor_id) ?? null) : null),
    );
  }

  auditTimeline(hours: number): Promise<AuditTimelineDto> {
    return this.auditQuery.timeline(hours);
  }

  enableMfa(me: UserPrincipal): Promise<MfaEnrolmentDto> {
    return this.mfa.enable(me);
  }

  verifyMfa(me: UserPrincipal, code: string): Promise<MfaEnabledDto> {
    return this.mfa.confirm(me, code);
  }

  /** As the service's own: the password (counted towards the lockout), then a current code. */
  async disableMfa(
    me: UserPrincipal,
    dto: MicroserviceMfaDisableDto,
  ): Promise<{ mfa_enabled: false; message: string }> {
    await this.auth.confirmPassword(me, dto.password);
    await this.mfa.disable(me, dto.mfa_code);
    return { mfa_enabled: false, message: 'MFA disabled' };
  }

  changePassword(me: UserPrincipal, dto: ChangePasswordDto): Promise<void> {
    return this.auth.changePassword(me, dto);
  }

  /** The caller's configuration with this number; another owner's, or none, answers as missing. */
  private async configId(me: UserPrincipal, number: number): Promise<string> {
    const id = await this.ids.configIdOf(me.userId, number);
    if (!id) throw configNotFound();
    return id;
  }

  private async configNumber(me: UserPrincipal, configId: string): Promise<number> {
    const number = (await this.ids.configNumbers(me.userId, [configId])).get(configId);
    // Deleted between its creation and now: as gone as any other missing configuration.
    if (number === undefined) throw configNotFound();
    return number;
  }
}
