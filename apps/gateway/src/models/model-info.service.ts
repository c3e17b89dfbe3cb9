import { Injectable } from '@nestjs/common';
import { ModelCatalog, type VersionSelector, type VersionStatus } from './model-catalog.service';
import type { VersionManifest } from './version-manifest';

/** Status and metadata queries, the same for every transport. */
@Injectable()
export class ModelInfoService {
  constructor(private readonly catalog: ModelCatalog) {}

  /** All versions, or the one a version or label names. */
  async status(model: string, selector: Pick<VersionSelector, 'version' | 'label'>, deadline: number): Promise<VersionStatus[]> {
    const only = selector.version ?? (selector.label ? (await this.catalog.resolve(model, { label: selector.label }, deadline)).version : undefined);
    return this.catalog.statuses(model, deadline, only);
  }

  async metadata(model: string, selector: VersionSelector, deadline: number): Promise<{ manifest: VersionManifest; versions: number[] }> {
    const resolved = await this.catalog.resolve(model, selector, deadline);
    return { manifest: resolved.manifest, versions: await this.catalog.versions(model) };
  }

  /** Whether the version a request would reach is AVAILABLE on inference. */
  async ready(model: string, selector: VersionSelector, deadline: number): Promise<boolean> {
    const { version } = await this.catalog.resolve(model, selector, deadline);
    const live = await this.catalog.liveStatuses(model, deadline);
    return live.some((s) => s.version === version && s.state === 'AVAILABLE');
  }
}
