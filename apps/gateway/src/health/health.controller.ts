import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { withTimeout } from '@servable/observability';
import { GatewayMetrics } from '../metrics/gateway.metrics';
import { ReadinessService } from './readiness.service';
import { Access } from '../control-plane/access.decorator';

/** Probes and the Prometheus scrape; liveness never depends on the data plane. */
@ApiExcludeController()
@Access('public')
@Controller()
export class HealthController {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly metrics: GatewayMetrics,
  ) {}

  @Get(['healthz', 'livez'])
  live() {
    return { status: 'ok' };
  }

  /** 503 names the hop that is down, so an operator knows where to look. */
  @Get('readyz')
  async ready(@Res({ passthrough: true }) res: FastifyReply) {
    const report = await withTimeout(this.readiness.check(), 2_000, 'readiness check').catch((err: Error) => ({
      ready: false,
      checks: { error: err.message },
    }));
    if (!report.ready) res.code(503);
    return report;
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText() {
    return this.metrics.registry.metrics();
  }
}
