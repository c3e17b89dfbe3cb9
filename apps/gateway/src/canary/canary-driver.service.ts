import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ControlPlane } from '@servable/persistence';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { GatewayMetrics } from '../metrics/gateway.metrics';
import { CanaryMetrics } from './canary.metrics';

/**
 * Drives canary runs. Every replica ticks; for each RUNNING run it takes or renews the
 * run's lease (one conditional UPDATE), and only the holder judges a step that has ended.
 * A replica that dies stops renewing, and another takes the run over once the lease has
 * expired: the run's step, window and checks are in its row, so nothing is lost.
 *
 * The analysis reads flushed metric buckets, which hold every replica's traffic. A step is
 * judged one METRICS_FLUSH_INTERVAL_MS after it ends, so the other replicas have flushed
 * its last requests; this replica flushes its own first.
 */
@Injectable()
export class CanaryDriver implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('CanaryDriver');
  /** Unique per process: a restarted gateway is a new owner and waits out its old lease. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;

  constructor(
    private readonly cp: ControlPlane,
    private readonly gauges: CanaryMetrics,
    private readonly metrics: GatewayMetrics,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.CANARY_TICK_MS);
    this.timer.unref();
    void this.tick();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
    // Hand the runs over now rather than after the lease expires.
    await this.cp.canaries.release(this.owner).catch(() => undefined);
  }

  /** One pass; passes never overlap. Public so tests can drive it. */
  tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = this.pass()
      .catch((err: Error) => this.logger.warn(`canary pass failed: ${err.message}`))
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async pass(): Promise<void> {
    const grace = this.config.METRICS_FLUSH_INTERVAL_MS;
    for (const { model, run } of await this.cp.canaries.running()) {
      if (!(await this.cp.canaries.lease(run.id, this.owner, this.config.CANARY_LEASE_MS))) continue;
      if (Date.now() < run.stepEndsAt.getTime() + grace) continue;
      await this.cp.metrics.flush();
      const outcome = await this.cp.canaries.advance(run.id, this.owner);
      if (outcome !== 'skipped') this.logger.log(`canary run ${run.id} of ${model} (v${run.canaryVersion}): step ${run.stepIndex} at ${run.weight}% → ${outcome}`);
      // Counted by the replica that decided, once per rollback: the ServableCanaryRolledBack alert fires on its increase.
      if (outcome === 'rolled_back') this.metrics.canaryRollbacks.inc({ model, version: String(run.canaryVersion) });
    }
    this.gauges.update(await this.cp.canaries.latestPerModel());
  }
}
