import { Controller, Get, Headers, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { unauthenticated } from '#src/common/auth/auth-errors.js';
import { VerifiesCredentials } from '#src/common/auth/auth.decorators.js';
import { ProblemException } from '#src/common/problem.js';
import { Public } from '#src/common/public.decorator.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { constantTimeEqual } from '#src/crypto/compare.js';
import { MetricsRegistry } from './metrics-registry.js';

/**
 * `GET /metrics` for Prometheus. Off (404) unless METRICS_TOKEN is set; the scraper sends it
 * as a bearer token. Not part of the client API, so not in the OpenAPI document.
 */
@ApiExcludeController()
@Public()
@VerifiesCredentials()
@Controller('metrics')
export class PrometheusController {
  constructor(
    private readonly metrics: MetricsRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async scrape(
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const token = this.config.metricsToken;
    if (!token) throw new ProblemException(HttpStatus.NOT_FOUND, 'NOT_FOUND', 'Metrics are not enabled.');
    const presented = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '';
    if (!constantTimeEqual(presented, token)) {
      // Audited (authn.failed) and counted per address by the exception filter, like every refusal.
      void reply.header('www-authenticate', 'Bearer realm="metrics"');
      throw unauthenticated('METRICS_TOKEN_REQUIRED', 'Send the metrics token as a bearer token.');
    }
    const { contentType, body } = await this.metrics.exposition();
    void reply.header('content-type', contentType).header('cache-control', 'no-store');
    return body;
  }
}
