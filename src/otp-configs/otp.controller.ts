import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, UserAuth } from '#src/common/auth/auth.decorators.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { RateLimit } from '#src/common/rate-limit/rate-limit.policies.js';
import { UuidParam } from '#src/common/validators.js';
import { ApiLockedResponse } from '#src/common/locked-response.decorator.js';
import {
  BulkGenerateDto,
  BulkGenerateResultDto,
  EnhancedOtpStatsDto,
  GeneratedOtpDto,
  GenerateOtpDto,
  LiveCodeDto,
  LiveCodesDto,
  OtpEventDto,
  OtpStatsDto,
  RecentEventsQueryDto,
  ValidateOtpDto,
  ValidationResultDto,
} from './dto/otp-codes.dto.js';
import { OtpCodesService } from './otp-codes.service.js';
import { OtpEventsService } from './otp-events.service.js';

@ApiTags('otp')
@UserAuth()
@Controller('otp')
export class OtpController {
  constructor(
    private readonly codes: OtpCodesService,
    private readonly events: OtpEventsService,
  ) {}

  @Post('generate')
  @HttpCode(200)
  @RateLimit('otpGenerate')
  @ApiOperation({ summary: 'The current code of a configuration (HOTP: optionally consuming the counter)' })
  @ApiOkResponse({ type: GeneratedOtpDto })
  @ApiNotFoundResponse({ description: 'CONFIG_NOT_FOUND' })
  generate(@CurrentUser() me: UserPrincipal, @Body() dto: GenerateOtpDto): Promise<GeneratedOtpDto> {
    return this.codes.generate(me, dto);
  }

  @Post('validate')
  @HttpCode(200)
  @RateLimit('otpValidate')
  @ApiOperation({
    summary: 'Check a code: TOTP within the window and once per step, HOTP within the look-ahead',
    description:
      'After OTP_MAX_FAILURES consecutive failures the configuration answers 423 VALIDATION_LOCKED for a while.',
  })
  @ApiOkResponse({ type: ValidationResultDto })
  @ApiNotFoundResponse({ description: 'CONFIG_NOT_FOUND' })
  @ApiLockedResponse('VALIDATION_LOCKED', 'too many failed validations')
  validate(@CurrentUser() me: UserPrincipal, @Body() dto: ValidateOtpDto): Promise<ValidationResultDto> {
    return this.codes.validate(me, dto);
  }

  @Post('bulk/generate')
  @HttpCode(200)
  @RateLimit('otpGenerate')
  @ApiOperation({ summary: 'Codes for up to 100 configurations, one result per id' })
  @ApiOkResponse({ type: BulkGenerateResultDto })
  bulkGenerate(@CurrentUser() me: UserPrincipal, @Body() dto: BulkGenerateDto): Promise<BulkGenerateResultDto> {
    return this.codes.bulkGenerate(me, dto.config_ids);
  }

  @Get('codes')
  @RateLimit('otpGenerate')
  @ApiOperation({ summary: 'Live codes of every active TOTP configuration, with the seconds left' })
  @ApiOkResponse({ type: LiveCodesDto })
  liveCodes(@CurrentUser() me: UserPrincipal): Promise<LiveCodesDto> {
    return this.codes.liveCodes(me);
  }

  @Get('codes/:id')
  @RateLimit('otpGenerate')
  @ApiOperation({ summary: 'The live code of one TOTP configuration' })
  @ApiOkResponse({ type: LiveCodeDto })
  @ApiNotFoundResponse({ description: 'CONFIG_NOT_FOUND' })
  liveCode(@CurrentUser() me: UserPrincipal, @Param('id', UuidParam) id: string): Promise<LiveCodeDto> {
    return this.codes.liveCodeOf(me, id);
  }

  @Get('events/recent')
  @ApiOperation({ summary: 'Your latest generations and validations (never the codes)' })
  @ApiOkResponse({ type: [OtpEventDto] })
  recentEvents(@CurrentUser() me: UserPrincipal, @Query() query: RecentEventsQueryDto): Promise<OtpEventDto[]> {
    return this.events.recent(me, query.limit);
  }

  @Get('stats')
  @ApiOperation({ summary: 'Totals of your configurations, generations and validations' })
  @ApiOkResponse({ type: OtpStatsDto })
  stats(@CurrentUser() me: UserPrincipal): Promise<OtpStatsDto> {
    return this.events.stats(me);
  }

  @Get('stats/enhanced')
  @ApiOperation({ summary: 'Totals, success rate and the last 7 days' })
  @ApiOkResponse({ type: EnhancedOtpStatsDto })
  enhancedStats(@CurrentUser() me: UserPrincipal): Promise<EnhancedOtpStatsDto> {
    return this.events.enhancedStats(me);
  }
}
