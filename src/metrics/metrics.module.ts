import { Global, Module } from '@nestjs/common';
import { HttpMetricsHook } from './http-metrics.hook.js';
import { MetricsRegistry } from './metrics-registry.js';
import { PrometheusController } from './prometheus.controller.js';

/** Global: any module records its counters through MetricsRegistry. */
@Global()
@Module({
  controllers: [PrometheusController],
  providers: [MetricsRegistry, HttpMetricsHook],
  exports: [MetricsRegistry],
})
export class MetricsModule {}
