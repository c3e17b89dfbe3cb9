import { Injectable } from '@nestjs/common';
import { ErrorCode, ServableError } from '@servable/contracts';
import type { ReplicaVersionState } from '@servable/contracts/admin-api';
import type { ModelManifest } from '@servable/model-repository';
import type { ModelRouting } from '@servable/persistence';
import { decideRoute, type HeaderBag, type RouteReason } from '@servable/routing';
import { RoutingTable } from '../control-plane/routing-table.service';
import { DownstreamService } from '../downstream/downstream.service';
import { ROUTE_KEY_HEADER } from '../request-metadata/request-metadata';

/** How a request names the version it wants; all empty means "let the gateway choose". */
export interface VersionSelector {
  version?: number;
  label?: string;
  /** The x-servable-version pin header: a version number or a label. */
  pin?: string;
  /** Request headers (HTTP) or metadata (gRPC): cohort rules and x-servable-route-key read them. */
  headers?: HeaderBag;
}

export interface ResolvedVersion {
  model: string;
  version: number;
  manifest: ModelManifest;
  /** Why this version: the rollout's reason, or "pinned" / "label" / "latest". */
  reason: RouteReason | 'label' | 'latest';
  /** The rollout also mirrors this request to a shadow version. */
  shadowVersion?: number;
}

export interface VersionStatus {
  version: number;
  state: string;
  errorCode: string;
  errorMessage: string;
  labels: string[];
  /** Each inference replica's state of the version. */
  replicas: ReplicaVersionState[];
}

const DEFAULT_LABEL = 'stable';

/**
 * The models the gateway can serve, read from one place: the control plane's snapshot in
 * the routing table (registered versions, their states and manifests, labels, rollouts).
 * Resolves a request to one version without any I/O.
 */
@Injectable()
export class ModelCatalog {
  constructor(
    private readonly routing: RoutingTable,
    private readonly downstream: DownstreamService,
  ) {}

  /** True for a model the control plane has registered: only those become metric label values. */
  knows(model: string): boolean {
    return this.routing.get(model) !== undefined;
  }

  private model(model: string): ModelRouting {
    const found = this.routing.get(model);
    if (!found || found.versions.length === 0) throw ServableError.notFound(`model "${model}" not found`);
    return found;
  }

  /** Registered versions, oldest first; NOT_FOUND for an unknown model. */
  versions(model: string): number[] {
    return this.model(model).versions.map((v) => v.version);
  }

  manifest(model: string, version: number): ModelManifest {
    const found = this.model(model).versions.find((v) => v.version === version);
    if (!found) throw ServableError.notFound(`model "${model}" has no version ${version}`);
    return found.manifest;
  }

  /**
   * First match wins: an explicit version or label, then the pin header, then the
   * model's rollout (cohort rules, the canary split, sticky keys, shadow), then the
   * `stable` label, else the latest AVAILABLE version.
   */
  resolve(model: string, selector: VersionSelector): ResolvedVersion {
    if (selector.version !== undefined && selector.label) throw ServableError.invalid('give a version or a label, not both');
    const routing = this.model(model);
    // A version given is explicit, 0 included (TF Serving and Triton answer NOT_FOUND for it): unset is undefined.
    let version = selector.version ?? (selector.label ? this.byLabel(model, selector.label) : undefined);
    if (version === undefined && selector.pin) {
      version = /^\d+$/.test(selector.pin) ? Number(selector.pin) : this.byLabel(model, selector.pin);
    }
    if (version !== undefined) return { model, version, manifest: this.manifest(model, version), reason: 'pinned' };
    if (routing.rollout) {
      const headers = selector.headers ?? {};
      const key = headers[ROUTE_KEY_HEADER];
      const decision = decideRoute(routing.rollout, {
        headers,
        routeKey: Array.isArray(key) ? key[0] : key,
        isAvailable: (v) => routing.available.includes(v),
      });
      return { model, version: decision.version, manifest: this.manifest(model, decision.version), reason: decision.reason, shadowVersion: decision.shadowVersion };
    }
    const stable = routing.labels[DEFAULT_LABEL];
    if (stable !== undefined) return { model, version: stable, manifest: this.manifest(model, stable), reason: 'label' };
    if (routing.available.length === 0) throw new ServableError(ErrorCode.FAILED_PRECONDITION, `model "${model}" has no AVAILABLE version`);
    const latest = Math.max(...routing.available);
    return { model, version: latest, manifest: this.manifest(model, latest), reason: 'latest' };
  }

  private byLabel(model: string, label: string): number {
    const version = this.routing.label(model, label);
    // TF Serving's answer, word for word (INVALID_ARGUMENT: a label is configuration, not a resource).
    if (version === undefined) throw ServableError.invalid(`Unrecognized servable version label: ${label} (model "${model}" has no such label)`);
    return version;
  }

  /** Every registered version with its state, labels and per-replica states. */
  statuses(model: string, only?: number): VersionStatus[] {
    const routing = this.model(model);
    if (only !== undefined && !routing.versions.some((v) => v.version === only)) throw ServableError.notFound(`model "${model}" has no version ${only}`);
    const labels = Object.entries(routing.labels);
    return routing.versions
      .filter((v) => only === undefined || v.version === only)
      .map((v) => ({
        version: v.version,
        state: v.state,
        errorCode: v.state === 'FAILED' ? 'UNKNOWN' : 'OK',
        errorMessage: v.stateDetail ?? '',
        labels: labels.filter(([, n]) => n === v.version).map(([l]) => l),
        replicas: this.downstream.replicaStates(model, v.version),
      }));
  }

  /** Whether the version is AVAILABLE in the control plane's view. */
  isAvailable(model: string, version: number): boolean {
    return this.model(model).available.includes(version);
  }

  /**
   * Whether a request to the version would be served now: AVAILABLE, and held AVAILABLE by an
   * inference replica that is SERVING. With its only replica dead, OIP model readiness had said
   * ready while every request got 503.
   */
  isServed(model: string, version: number): boolean {
    return this.isAvailable(model, version) && this.downstream.replicaStates(model, version).some((r) => r.serving && r.state === 'AVAILABLE');
  }
}
