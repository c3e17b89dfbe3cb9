import type { ModelVersionEntity, VersionState } from '../entities';

export interface VersionView {
  model: string;
  version: number;
  state: VersionState;
  stateDetail: string | null;
  /** Version labels (stable, canary, …) that point here. */
  labels: string[];
  pinned: boolean;
  framework: string;
  artifactPath: string;
  artifactSha256: string;
  tokenizerHash: string;
  signature: Record<string, unknown>;
  classLabels: string[];
  maxLength: number;
  evaluation: Record<string, unknown> | null;
  source: 'import' | 'upload';
  createdAt: string;
}

export interface ModelView {
  name: string;
  /** label → version */
  labels: Record<string, number>;
  versions: VersionView[];
}

export function versionView(model: string, v: ModelVersionEntity, labels: string[]): VersionView {
  return {
    model,
    version: v.version,
    state: v.state,
    stateDetail: v.stateDetail,
    labels: [...labels].sort(),
    pinned: v.pinned,
    framework: v.framework,
    artifactPath: v.artifactPath,
    artifactSha256: v.artifactSha256,
    tokenizerHash: v.tokenizerHash,
    signature: v.signature,
    classLabels: v.classLabels,
    maxLength: v.maxLength,
    evaluation: v.evaluation,
    source: v.source,
    createdAt: v.createdAt.toISOString(),
  };
}
