import { Module } from '@nestjs/common';
import { MetricsRegistry } from './metrics-registry.js';

/** The Prometheus counters and histograms; a module that counts its events imports this. */
@Module({
  providers: [MetricsRegistry],
  exports: [MetricsRegistry],
})
export class MetricsRegistryModule {}
