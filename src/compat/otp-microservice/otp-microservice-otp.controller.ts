import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, UserAuth } from '#src/common/auth/auth.decorators.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { ApiLockedResponse } from '#src/common/locked-response.decorator.js';
import { RateLimit } from '#src/common/rate-limit/rate-limit.policies.js';
import { COMPAT_PATHS } from '#src/compat/compat-paths.js';
import { OtpStatsDto, RecentEventsQueryDto } from '#src/otp-configs/dto/otp-codes.dto.js';
import { CreateOtpConfigDto, UpdateOtpConfigDto } from '#src/otp-configs/dto/otp-config.dto.js';
import {
  CreatedMicroserviceOtpConfigDto,
  MessageDto,
  MicroserviceBulkDto,
  MicroserviceEnhancedStatsDto,
  MicroserviceEventDto,
  MicroserviceGenerateDto,
  MicroserviceGeneratedDto,
  MicroserviceOtpConfigDto,
  MicroserviceUserMetricsDto,
  MicroserviceValidateDto,
  MicroserviceValidationDto,
  SkipLimitQueryDto,
} from './dto/otp-microservice.dto.js';
import { IntegerIdListBody, IntegerIdParam, MAX_BULK_IDS } from './integer-id.pipes.js';
import { OTP_MICROSERVICE_TAG } from './otp-microservice-auth.controller.js';
import { OtpMicroserviceService } from './otp-microservice.service.js';

/** A person's OTP configurations, codes and figures, by the replaced microservice's integer ids. */
@ApiTags(OTP_MICROSERVICE_TAG)
@UserAuth()
@Controller(COMPAT_PATHS.otpMicroservice)
export class OtpMicroserviceOtpController {
  constructor(private readonly service: OtpMicroserviceService) {}

  @Get('otp/configs')
  @ApiOperation({ summary: 'Your configurations, newest first, as a bare list (also at otp/configs/)' })
  @ApiOkResponse({ type: [MicroserviceOtpConfigDto] })
  list(@CurrentUser() me: UserPrincipal, @Query() query: SkipLimitQueryDto): Promise<MicroserviceOtpConfigDto[]> {
    return this.service.listConfigs(me, query);
  }

  @Post('otp/configs')
  @HttpCode(200)
  @RateLimit('configCreate')
  @ApiOperation({ summary: 'Create a TOTP or HOTP configuration; its secret is in this answer only' })
  @ApiOkResponse({ type: CreatedMicroserviceOtpConfigDto })
  create(@CurrentUser() me: UserPrincipal, @Body() dto: CreateOtpConfigDto): Promise<CreatedMicroserviceOtpConfigDto> {
    return this.service.createConfig(me, dto);
  }

  @Get('otp/configs/:config_id')
  @ApiOperation({ summary: 'One of your configurations (never its secret)' })
  @ApiOkResponse({ type: MicroserviceOtpConfigDto })
  get(
    @CurrentUser() me: UserPrincipal,
    @Param('config_id', IntegerIdParam) id: number,
  ): Promise<MicroserviceOtpConfigDto> {
    return this.service.getConfig(me, id);
  }

  @Put('otp/configs/:config_id')
  @ApiOperation({ summary: 'Rename, relabel, activate or deactivate a configuration' })
  @ApiOkResponse({ type: MicroserviceOtpConfigDto })
  update(
    @CurrentUser() me: UserPrincipal,
    @Param('config_id', IntegerIdParam) id: number,
    @Body() dto: UpdateOtpConfigDto,
  ): Promise<MicroserviceOtpConfigDto> {
    return this.service.updateConfig(me, id, dto);
  }

  @Delete('otp/configs/:config_id')
  @ApiOperation({ summary: 'Delete a configuration (its events stay, for statistics)' })
  @ApiOkResponse({ type: MessageDto })
  async delete(@CurrentUser() me: UserPrincipal, @Param('config_id', IntegerIdParam) id: number): Promise<MessageDto> {
    await this.service.deleteConfig(me, id);
    return { message: 'OTP configuration deleted' };
  }

  @Post('otp/generate')
  @HttpCode(200)
  @RateLimit('otpGenerate')
  @ApiOperation({ summary: 'The current code (otp_code) of a configuration (HOTP: optionally consuming the counter)' })
  @ApiOkResponse({ type: MicroserviceGeneratedDto })
  generate(@CurrentUser() me: UserPrincipal, @Body() dto: MicroserviceGenerateDto): Promise<MicroserviceGeneratedDto> {
    return this.service.generate(me, dto);
  }

  @Post('otp/validate')
  @HttpCode(200)
  @RateLimit('otpValidate')
  @ApiOperation({ summary: 'Check an otp_code: once per TOTP step, HOTP within the look-ahead; locks after failures' })
  @ApiOkResponse({ type: MicroserviceValidationDto })
  @ApiLockedResponse('VALIDATION_LOCKED', 'too many failed validations')
  validate(@CurrentUser() me: UserPrincipal, @Body() dto: MicroserviceValidateDto): Promise<MicroserviceValidationDto> {
    return this.service.validate(me, dto);
  }

  @Post('otp/bulk/generate')
  @HttpCode(200)
  @RateLimit('otpGenerate')
  @ApiOperation({ summary: `Codes for up to ${MAX_BULK_IDS} configurations; the body is a bare list of ids` })
  @ApiBody({ schema: { type: 'array', items: { type: 'integer', minimum: 1 }, maxItems: MAX_BULK_IDS } })
  @ApiOkResponse({ type: MicroserviceBulkDto })
  bulkGenerate(@CurrentUser() me: UserPrincipal, @Body(IntegerIdListBody) ids: number[]): Promise<MicroserviceBulkDto> {
    return this.service.bulkGenerate(me, ids);
  }

  @Get('otp/stats')
  @ApiOperation({ summary: 'Totals of your configurations, generations and validations' })
  @ApiOkResponse({ type: OtpStatsDto })
  stats(@CurrentUser() me: UserPrincipal): Promise<OtpStatsDto> {
    return this.service.stats(me);
  }

  @Get('otp/stats/enhanced')
  @ApiOperation({ summary: 'Totals, the success rate as a percentage and the last 7 days' })
  @ApiOkResponse({ type: MicroserviceEnhancedStatsDto })
  enhancedStats(@CurrentUser() me: UserPrincipal): Promise<MicroserviceEnhancedStatsDto> {
    return this.service.enhancedStats(me);
  }

  @Get('otp/events/recent')
  @ApiOperation({ summary: 'Your latest generations and validations (never the codes)' })
  @ApiOkResponse({ type: [MicroserviceEventDto] })
  recentEvents(
    @CurrentUser() me: UserPrincipal,
    @Query() query: RecentEventsQueryDto,
  ): Promise<MicroserviceEventDto[]> {
    return this.service.recentEvents(me, query.limit);
  }

  @Get('user/metrics')
  @ApiOperation({ summary: 'Your figures (as GET /api/v1/metrics/me), the success rate as a percentage' })
  @ApiOkResponse({ type: MicroserviceUserMetricsDto })
  userMetrics(@CurrentUser() me: UserPrincipal): Promise<MicroserviceUserMetricsDto> {
    return this.service.userMetrics(me);
  }
}
