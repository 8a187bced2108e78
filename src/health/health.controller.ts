import { Controller, Get, Inject, Res } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { Public } from '#src/common/public.decorator.js';
import { SERVICE_NAME } from '#src/version.js';
import { HealthResponseDto, ServiceInfoDto } from './health.dto.js';
import { HealthService } from './health.service.js';

@ApiTags('info')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'getServiceInfo', summary: 'Service name, version and where the docs are' })
  @ApiOkResponse({ type: ServiceInfoDto })
  info(): ServiceInfoDto {
    return {
      name: SERVICE_NAME,
      version: this.config.version,
      docs: this.config.docsEnabled ? '/docs' : null,
      openapi: this.config.docsEnabled ? '/docs/openapi.json' : null,
    };
  }

  @Get('health')
  // Load balancers poll it from a few addresses; the database ping behind it is cached.
  @SkipThrottle()
  @ApiOperation({ operationId: 'getHealth', summary: 'Liveness and database reachability' })
  @ApiOkResponse({ type: HealthResponseDto })
  @ApiServiceUnavailableResponse({ type: HealthResponseDto, description: 'The database is unreachable' })
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthResponseDto> {
    const databaseUp = await this.health.databaseUp();
    void reply.status(databaseUp ? 200 : 503).header('cache-control', 'no-store');
    return {
      status: databaseUp ? 'ok' : 'error',
      database: databaseUp ? 'up' : 'down',
      version: this.config.version,
      uptime: Math.round(process.uptime()),
    };
  }
}
