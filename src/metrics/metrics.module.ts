import { Module } from '@nestjs/common';
import { ApiKeysModule } from '#src/api-keys/api-keys.module.js';
import { AuthModule } from '#src/auth/auth.module.js';
import { DevicesModule } from '#src/devices/devices.module.js';
import { UsageKeysModule } from '#src/keys/usage-keys.module.js';
import { OtpConfigsModule } from '#src/otp-configs/otp-configs.module.js';
import { UsersModule } from '#src/users/users.module.js';
import { HttpMetricsHook } from './http-metrics.hook.js';
import { MetricsRegistryModule } from './metrics-registry.module.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';
import { PrometheusController } from './prometheus.controller.js';

/**
 * The metrics routes: Prometheus exposition and HTTP timing over MetricsRegistry, and the
 * figures of metrics/me and metrics/system, asked of the modules that own them.
 */
@Module({
  imports: [
    MetricsRegistryModule,
    UsersModule,
    AuthModule,
    OtpConfigsModule,
    DevicesModule,
    UsageKeysModule,
    ApiKeysModule,
  ],
  controllers: [PrometheusController, MetricsController],
  providers: [HttpMetricsHook, MetricsService],
  // The replaced microservice's figures routes answer the same figures.
  exports: [MetricsService],
})
export class MetricsModule {}
