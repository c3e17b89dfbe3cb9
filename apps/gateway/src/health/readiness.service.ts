import { Injectable } from '@nestjs/common';
import type { ReplicaHealthView } from '@servable/contracts/admin-api';
import type { HealthRegistry } from '@servable/contracts/grpc';
import { withTimeout } from '@servable/observability';
import { ControlPlane } from '@servable/persistence';
import { DownstreamService } from '../downstream/downstream.service';
import type { ReplicaSet } from '../downstream/replica-set';

const STORE_TIMEOUT_MS = 1_000;

export interface DataPlaneReadiness {
  /** Replicas that answer their health check with SERVING. */
  serving: number;
  replicas: ReplicaHealthView[];
}

export interface GatewayReadiness {
  ready: boolean;
  checks: {
    /** SIGTERM arrived: the gateway is leaving its Service before it stops taking work. */
    draining: boolean;
    store: { up: boolean; detail?: string };
    tokenizer: DataPlaneReadiness;
    inference: DataPlaneReadiness;
  };
}

/**
 * Ready means the gateway can serve: at least one replica of each data-plane service is
 * SERVING. One replica's outage leaves it ready (requests go to the others); an outage of a
 * whole data-plane service makes it unready, since it could serve nothing but the admin API.
 * Replica health comes from the replica sets' background checks.
 *
 * The database is checked and reported (`store`), but does not make the gateway unready: it
 * serves inference from its last routing snapshot and the keys it verified lately while the
 * database is down (the admin API answers 503). Every gateway shares that database, so failing
 * readiness on it took every replica out of the Service at once: a database outage became a
 * total one.
 */
@Injectable()
export class ReadinessService {
  private draining = false;

  constructor(
    private readonly downstream: DownstreamService,
    private readonly cp: ControlPlane,
  ) {}

  /** From now on the gateway reports unready, whatever else holds. */
  startDraining(): void {
    this.draining = true;
  }

  /**
   * Keeps grpc.health.v1 (every service name) in step with this readiness, checked every
   * intervalMs: a gRPC load balancer or Kubernetes gRPC probe must see NOT_SERVING when /readyz
   * says 503. Returns the stop.
   */
  mirrorInto(registry: HealthRegistry, intervalMs: number): () => void {
    let last: boolean | undefined;
    let busy = false;
    const sync = async () => {
      if (busy) return;
      busy = true;
      try {
        const { ready } = await this.check();
        if (ready !== last) registry.set(ready ? 'SERVING' : 'NOT_SERVING');
        last = ready;
      } catch {
        if (last !== false) registry.set('NOT_SERVING');
        last = false;
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void sync(), intervalMs);
    timer.unref();
    void sync();
    return () => clearInterval(timer);
  }

  async check(): Promise<GatewayReadiness> {
    const store = await withTimeout(this.cp.db.dataSource.query('SELECT 1'), STORE_TIMEOUT_MS, 'database check').then(
      () => ({ up: true }),
      (err: Error) => ({ up: false, detail: err.message }),
    );
    const tokenizer = dataPlane(this.downstream.tokenizer);
    const inference = dataPlane(this.downstream.inference);
    return {
      ready: !this.draining && tokenizer.serving > 0 && inference.serving > 0,
      checks: { draining: this.draining, store, tokenizer, inference },
    };
  }
}

function dataPlane(set: ReplicaSet): DataPlaneReadiness {
  const replicas = set.health();
  return { serving: replicas.filter((r) => r.status === 'SERVING').length, replicas };
}
