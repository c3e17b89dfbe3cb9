import { Injectable } from '@nestjs/common';
import { CANARY_RUN_STATES } from '@servable/contracts/admin-api';
import type { CanaryRunStatus } from '@servable/persistence';
import { Gauge } from 'prom-client';
import { GatewayMetrics } from '../metrics/gateway.metrics';

/**
 * Canary gauges, from the database on every driver tick, so every replica reports the
 * same values (aggregate with max by (model) across replicas). One series per state
 * (1 for the state of the model's latest run, 0 for the others), kube-state-metrics
 * style, so an alert can match `state="ROLLED_BACK"` directly.
 */
@Injectable()
export class CanaryMetrics {
  readonly state: Gauge<'model' | 'canary' | 'state'>;
  readonly weight: Gauge<'model' | 'canary'>;

  constructor(metrics: GatewayMetrics) {
    this.state = new Gauge({
      name: 'servable_canary_run_state',
      help: 'State of each model\'s latest canary run: 1 for its state, 0 for the others',
      labelNames: ['model', 'canary', 'state'],
      registers: [metrics.registry],
    });
    this.weight = new Gauge({
      name: 'servable_canary_weight_percent',
      help: 'Traffic weight of the running canary in percent; 0 once the run has finished',
      labelNames: ['model', 'canary'],
      registers: [metrics.registry],
    });
  }

  update(latest: CanaryRunStatus[]): void {
    // A model's latest run changes canary version; reset drops the old version's series.
    this.state.reset();
    this.weight.reset();
    for (const run of latest) {
      const canary = String(run.canary);
      for (const s of CANARY_RUN_STATES) this.state.set({ model: run.model, canary, state: s }, run.state === s ? 1 : 0);
      this.weight.set({ model: run.model, canary }, run.state === 'RUNNING' ? run.weight : 0);
    }
  }
}
