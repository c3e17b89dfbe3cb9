import type { VersionView, ModelView } from '@servable/contracts/admin-api';
import type { ModelVersionEntity } from '../entities';
import { evaluationView } from './evaluation-view';

export type { VersionView, ModelView };

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
    evaluation: evaluationView(v.evaluation),
    source: v.source,
    createdAt: v.createdAt.toISOString(),
  };
}
