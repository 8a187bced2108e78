import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminAuth, CurrentUser, UserAuth } from '#src/common/auth/auth.decorators.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { MyMetricsDto, SystemMetricsDto } from './dto/metrics.dto.js';
import { MetricsService } from './metrics.service.js';

@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get('me')
  @UserAuth()
  @ApiOperation({ summary: 'My OTP configurations and usage: totals, success rate, the last 7 days' })
  @ApiOkResponse({ type: MyMetricsDto })
  me(@CurrentUser() user: UserPrincipal): Promise<MyMetricsDto> {
    return this.metrics.forUser(user.userId);
  }

  @Get('system')
  @AdminAuth()
  @ApiOperation({
    summary: 'System figures: users, configurations, OTP usage, devices, usage-limited keys, 24 h activity, security',
  })
  @ApiOkResponse({ type: SystemMetricsDto })
  system(): Promise<SystemMetricsDto> {
    return this.metrics.systemFigures();
  }
}
