import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, ServableError } from '@servable/contracts';
import type { servableInferenceV1 } from '@servable/contracts/grpc';
import { decideRoute, type HeaderBag, type RouteReason } from '@servable/routing';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { RoutingTable } from '../control-plane/routing-table.service';
import { DownstreamService } from '../downstream/downstream.service';
import { MANIFEST_SOURCE, type ManifestSource, type VersionManifest } from './version-manifest';

/** How a request names the version it wants; all empty means "let the gateway choose". */
export interface VersionSelector {
  version?: number;
  label?: string;
  /** The x-servable-version pin header: a version number or a label. */
  pin?: string;
  /** Request headers (HTTP) or metadata (gRPC): cohort rules and x-servable-route-key read them. */
  headers?: HeaderBag;
}

export const ROUTE_KEY_HEADER = 'x-servable-route-key';

export interface ResolvedVersion {
  model: string;
  version: number;
  manifest: VersionManifest;
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
}

/** Where the repository listing is re-read: new versions appear without a restart. */
const LISTING_TTL_MS = 5_000;
const DEFAULT_LABEL = 'stable';

/**
 * The models the gateway can serve: manifests from the repository (immutable
 * per version, so cached for good) and live states from inference
 * (cached for MODEL_STATUS_TTL_MS). Resolves a request to one version.
 */
@Injectable()
export class ModelCatalog {
  private readonly manifests = new Map<string, Promise<VersionManifest>>();
  private listing?: { at: number; models: Promise<Map<string, number[]>> };
  private readonly states = new Map<string, { at: number; statuses: Promise<servableInferenceV1.ModelVersionStatus[]> }>();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(MANIFEST_SOURCE) private readonly source: ManifestSource,
    private readonly downstream: DownstreamService,
    private readonly routing: RoutingTable,
  ) {}

  /** Versions present in the repository, newest last; NOT_FOUND for an unknown model. */
  async versions(model: string): Promise<number[]> {
    const now = Date.now();
    if (!this.listing || now - this.listing.at > LISTING_TTL_MS) {
      const models = this.readListing();
      this.listing = { at: now, models };
      models.catch(() => (this.listing = undefined));
    }
    const versions = (await this.listing.models).get(model);
    if (!versions || versions.length === 0) throw ServableError.notFound(`model "${model}" not found`);
    return versions;
  }

  private async readListing(): Promise<Map<string, number[]>> {
    const names = await this.source.listModels();
    const entries = await Promise.all(names.map(async (n) => [n, [...(await this.source.listVersions(n))].sort((a, b) => a - b)] as const));
    return new Map(entries);
  }

  async manifest(model: string, version: number): Promise<VersionManifest> {
    const versions = await this.versions(model);
    if (!versions.includes(version)) throw ServableError.notFound(`model "${model}" has no version ${version}`);
    const key = `${model}/${version}`;
    let manifest = this.manifests.get(key);
    if (!manifest) {
      manifest = this.source.readManifest(model, version);
      this.manifests.set(key, manifest);
      manifest.catch(() => this.manifests.delete(key));
    }
    return manifest;
  }

  /**
   * First match wins: an explicit version or label, then the pin header, then the
   * model's rollout (cohort rules, the canary split, sticky keys, shadow), then the
   * `stable` label, else the latest AVAILABLE version.
   */
  async resolve(model: string, selector: VersionSelector, deadline: number): Promise<ResolvedVersion> {
    if (selector.version && selector.label) throw ServableError.invalid('give a version or a label, not both');
    let version = selector.version || (selector.label ? this.byLabel(model, selector.label) : undefined);
    if (version === undefined && selector.pin) {
      version = /^\d+$/.test(selector.pin) ? Number(selector.pin) : this.byLabel(model, selector.pin);
    }
    await this.versions(model);
    if (version !== undefined) return { model, version, manifest: await this.manifest(model, version), reason: 'pinned' };
    const routing = this.routing.get(model);
    if (routing?.rollout) {
      const headers = selector.headers ?? {};
      const key = headers[ROUTE_KEY_HEADER];
      const decision = decideRoute(routing.rollout, {
        headers,
        routeKey: Array.isArray(key) ? key[0] : key,
        isAvailable: (v) => routing.available.includes(v),
      });
      return { model, version: decision.version, manifest: await this.manifest(model, decision.version), reason: decision.reason, shadowVersion: decision.shadowVersion };
    }
    const stable = this.routing.label(model, DEFAULT_LABEL);
    if (stable !== undefined) return { model, version: stable, manifest: await this.manifest(model, stable), reason: 'label' };
    const latest = await this.latestAvailable(model, deadline);
    return { model, version: latest, manifest: await this.manifest(model, latest), reason: 'latest' };
  }

  private byLabel(model: string, label: string): number {
    const version = this.routing.label(model, label);
    if (version === undefined) throw ServableError.notFound(`model "${model}" has no version labelled "${label}"`);
    return version;
  }

  private async latestAvailable(model: string, deadline: number): Promise<number> {
    const available = (await this.liveStatuses(model, deadline)).filter((s) => s.state === 'AVAILABLE').map((s) => s.version);
    if (available.length === 0) {
      throw new ServableError(ErrorCode.FAILED_PRECONDITION, `model "${model}" has no AVAILABLE version`);
    }
    return Math.max(...available);
  }

  /** Inference's view of the model's versions, cached briefly so resolution costs no extra hop per request. */
  async liveStatuses(model: string, deadline: number): Promise<servableInferenceV1.ModelVersionStatus[]> {
    const now = Date.now();
    const cached = this.states.get(model);
    if (cached && now - cached.at <= this.config.MODEL_STATUS_TTL_MS) return cached.statuses;
    const statuses = this.downstream.modelStatus(model, Math.min(deadline, now + 1_000));
    this.states.set(model, { at: now, statuses });
    statuses.catch(() => this.states.delete(model));
    return statuses;
  }

  /**
   * Drops the cached view of a model, so the next resolution asks inference
   * again. Called when inference refuses a version the cache called AVAILABLE
   * (it restarted, or unloaded it): the next request sees the truth at once
   * instead of after MODEL_STATUS_TTL_MS.
   */
  forget(model: string): void {
    this.states.delete(model);
  }

  /** Every version in the repository with its live state; versions inference does not know are UNKNOWN. */
  async statuses(model: string, deadline: number, only?: number): Promise<VersionStatus[]> {
    const versions = await this.versions(model);
    if (only !== undefined && !versions.includes(only)) throw ServableError.notFound(`model "${model}" has no version ${only}`);
    const live = new Map((await this.liveStatuses(model, deadline)).map((s) => [s.version, s]));
    const labels = [...this.routing.labels(model)];
    return versions
      .filter((v) => only === undefined || v === only)
      .map((version) => {
        const s = live.get(version);
        return {
          version,
          state: s?.state ?? 'UNKNOWN',
          errorCode: s?.status?.errorCode || 'OK',
          errorMessage: s?.status?.errorMessage ?? '',
          labels: labels.filter(([, v]) => v === version).map(([l]) => l),
        };
      });
  }
}
