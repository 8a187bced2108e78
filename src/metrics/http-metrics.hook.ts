import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { MetricsRegistry } from './metrics-registry.js';

/**
 * Times every HTTP answer with one Fastify onResponse hook: the route template (never the
 * raw URL, so ids do not multiply series) and the status code. Fastify assembles route
 * hooks when it gets ready, so a hook added during module init covers every route.
 */
@Injectable()
export class HttpMetricsHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: MetricsRegistry,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify?.addHook) return;
    const metrics = this.metrics;
    fastify.addHook('onResponse', (request, reply, done) => {
      metrics.observeHttp(
        request.method,
        request.routeOptions.url ?? 'unmatched',
        reply.statusCode,
        reply.elapsedTime / 1000,
      );
      done();
    });
  }
}
