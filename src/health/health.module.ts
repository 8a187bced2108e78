import { Module } from '@nestjs/common';
import { RateLimitModule } from '#src/common/rate-limit/rate-limit.module.js';
import { DatabaseOutageModule } from '#src/database/database-outage.module.js';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';

/** Liveness and readiness: the database (and its outage state) and the rate-limit store. */
@Module({
  imports: [DatabaseOutageModule, RateLimitModule],
  controllers: [HealthController],
  providers: [HealthService],
  exports: [HealthService],
})
export class HealthModule {}
