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
  @ApiOperation({
    operationId: 'getHealth',
    summary: 'Liveness, database reachability and the shared rate-limit store',
    description:
      'The database is required: down answers 503. Redis only shares rate limits between instances: ' +
      'down answers 200 with `status` "degraded" (each instance then limits on its own).',
  })
  @ApiOkResponse({ type: HealthResponseDto, description: 'Serving: `status` "ok", or "degraded" while Redis is down' })
  @ApiServiceUnavailableResponse({ type: HealthResponseDto, description: 'The database is unreachable' })
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthResponseDto> {
    const databaseUp = await this.health.databaseUp();
    const redis = this.health.redis();
    void reply.status(databaseUp ? 200 : 503).header('cache-control', 'no-store');
    return {
      status: !databaseUp ? 'error' : redis === 'down' ? 'degraded' : 'ok',
      database: databaseUp ? 'up' : 'down',
      ...(redis && { redis }),
      version: this.config.version,
      uptime: Math.round(process.uptime()),
    };
  }
}
