import { Injectable } from '@nestjs/common';
import type { ModelManifest } from '@servable/model-repository';
import { ModelCatalog, type VersionSelector, type VersionStatus } from './model-catalog.service';

/** Status and metadata queries, the same for every transport; all read the control plane's snapshot. */
@Injectable()
export class ModelInfoService {
  constructor(private readonly catalog: ModelCatalog) {}

  /** All versions, or the one a version or label names. */
  status(model: string, selector: Pick<VersionSelector, 'version' | 'label'>): VersionStatus[] {
    const only = selector.version ?? (selector.label ? this.catalog.resolve(model, { label: selector.label }).version : undefined);
    return this.catalog.statuses(model, only);
  }

  metadata(model: string, selector: VersionSelector): { manifest: ModelManifest; versions: number[] } {
    const resolved = this.catalog.resolve(model, selector);
    return { manifest: resolved.manifest, versions: this.catalog.versions(model) };
  }

  /** Whether the version a request would reach is AVAILABLE on an inference replica that is SERVING. */
  ready(model: string, selector: VersionSelector): boolean {
    const { version } = this.catalog.resolve(model, selector);
    return this.catalog.isServed(model, version);
  }
}
