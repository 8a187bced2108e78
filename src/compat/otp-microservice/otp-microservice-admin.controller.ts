import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditTimelineDto, AuditTimelineQueryDto } from '#src/audit/dto/audit.dto.js';
import { AdminAuth } from '#src/common/auth/auth.decorators.js';
import { COMPAT_PATHS } from '#src/compat/compat-paths.js';
import {
  MicroserviceAuditLogDto,
  MicroserviceSystemMetricsDto,
  SkipLimitQueryDto,
} from './dto/otp-microservice.dto.js';
import { OTP_MICROSERVICE_TAG } from './otp-microservice-auth.controller.js';
import { OtpMicroserviceService } from './otp-microservice.service.js';

/** The replaced microservice's admin panel figures and audit log (administrators only). */
@ApiTags(OTP_MICROSERVICE_TAG)
@AdminAuth()
@Controller(COMPAT_PATHS.otpMicroservice)
export class OtpMicroserviceAdminController {
  constructor(private readonly service: OtpMicroserviceService) {}

  @Get('system/metrics')
  @ApiOperation({ summary: 'System figures (as GET /api/v1/metrics/system), flat, the success rate as a percentage' })
  @ApiOkResponse({ type: MicroserviceSystemMetricsDto })
  systemMetrics(): Promise<MicroserviceSystemMetricsDto> {
    return this.service.systemMetrics();
  }

  @Get('audit/logs')
  @ApiOperation({ summary: 'Audit records, newest first, as a bare list (?skip=&limit=, at most 100)' })
  @ApiOkResponse({ type: [MicroserviceAuditLogDto] })
  auditLogs(@Query() query: SkipLimitQueryDto): Promise<MicroserviceAuditLogDto[]> {
    return this.service.auditLogs(query);
  }

  @Get('audit/timeline')
  @ApiOperation({ summary: 'Records per hour by action and status over the last `hours` hours' })
  @ApiOkResponse({ type: AuditTimelineDto })
  auditTimeline(@Query() query: AuditTimelineQueryDto): Promise<AuditTimelineDto> {
    return this.service.auditTimeline(query.hours);
  }
}
