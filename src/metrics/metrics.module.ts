import { Global, Module } from '@nestjs/common';
import { HttpMetricsHook } from './http-metrics.hook.js';
import { MetricsRegistry } from './metrics-registry.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';
import { PrometheusController } from './prometheus.controller.js';

/** Global: any module records its counters through MetricsRegistry. */
@Global()
@Module({
  controllers: [PrometheusController, MetricsController],
  providers: [MetricsRegistry, HttpMetricsHook, MetricsService],
  exports: [MetricsRegistry],
})
export class MetricsModule {}
