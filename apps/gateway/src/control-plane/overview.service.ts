import { Injectable } from '@nestjs/common';
import type { ModelSummary, OverviewView, ServiceHealth } from '@servable/contracts/admin-api';
import type { ReplicaSet } from '../downstream/replica-set';
import { ControlPlane, type MetricSeries } from '@servable/persistence';
import { DownstreamService } from '../downstream/downstream.service';
import { Reconciler } from './reconciler.service';

const HOUR_MS = 3_600_000;

/** The console's first screen: is every service up, and how is each model doing this hour. */
@Injectable()
export class OverviewService {
  constructor(
    private readonly cp: ControlPlane,
    private readonly downstream: DownstreamService,
    private readonly reconciler: Reconciler,
  ) {}

  async overview(): Promise<OverviewView> {
    const to = new Date();
    const from = new Date(to.getTime() - HOUR_MS);
    const [models, series] = await Promise.all([
      this.cp.registry.listModels(),
      this.cp.metrics.query({ from, to, stepSeconds: 3600 }),
    ]);
    const inference = serviceHealth('inference', this.downstream.inference);
    // The reconcile loop reads every model's status each pass; its report carries the backend.
    if (inference.status === 'SERVING') inference.backend = this.reconciler.last?.backend;
    return {
      services: [{ name: 'gateway', status: 'SERVING' }, serviceHealth('tokenizer', this.downstream.tokenizer), inference],
      models: models.map((m) => ({
        model: m.name,
        versions: m.versions.length,
        available: m.versions.filter((v) => v.state === 'AVAILABLE').length,
        ...summarize(series.filter((s) => s.model === m.name)),
      })),
      from: from.toISOString(),
      to: to.toISOString(),
    };
  }

}

/** A data-plane service is SERVING while any replica is; the replicas say which. */
function serviceHealth(name: 'tokenizer' | 'inference', set: ReplicaSet): ServiceHealth {
  const replicas = set.health();
  const serving = replicas.filter((r) => r.status === 'SERVING').length;
  const down = replicas.filter((r) => r.status !== 'SERVING');
  const status = serving > 0 ? 'SERVING' : down.some((r) => r.status === 'NOT_SERVING') ? 'NOT_SERVING' : 'UNREACHABLE';
  const detail = down.length ? down.map((r) => `${r.address} ${r.status}${r.detail ? `: ${r.detail}` : ''}`).join('; ') : undefined;
  return { name, status, ...(detail ? { detail } : {}), replicas };
}

/** One model's hour from its versions' series: total rate, error share and the worst version's p99. */
function summarize(series: MetricSeries[]): Pick<ModelSummary, 'requestsPerSecond' | 'errorRate' | 'p99Ms'> {
  let requests = 0;
  let errors = 0;
  let p99: number | null = null;
  for (const s of series) {
    for (const p of s.points) {
      requests += p.requests;
      errors += Object.values(p.errors).reduce((a, b) => a + b, 0);
      if (p.p99Ms !== null) p99 = Math.max(p99 ?? 0, p.p99Ms);
    }
  }
  return { requestsPerSecond: requests / (HOUR_MS / 1000), errorRate: requests ? errors / requests : null, p99Ms: p99 };
}
