import { ApiKeyEntity } from './api-key.entity';
import { AuditEventEntity } from './audit-event.entity';
import { CanaryRunEntity } from './canary-run.entity';
import { ConfigStateEntity } from './config-state.entity';
import { MetricBucketEntity } from './metric-bucket.entity';
import { ModelVersionEntity } from './model-version.entity';
import { ModelEntity } from './model.entity';
import { RolloutEntity } from './rollout.entity';
import { TokenizerEntity } from './tokenizer.entity';
import { VersionLabelEntity } from './version-label.entity';

export {
  ApiKeyEntity,
  AuditEventEntity,
  CanaryRunEntity,
  ConfigStateEntity,
  MetricBucketEntity,
  ModelVersionEntity,
  ModelEntity,
  RolloutEntity,
  TokenizerEntity,
  VersionLabelEntity,
};
export { VERSION_STATES, type VersionState } from './model-version.entity';
export { ROLES, type Role } from './api-key.entity';
export type { CohortRuleRow } from './rollout.entity';

export const ENTITIES = [
  ModelEntity,
  TokenizerEntity,
  ModelVersionEntity,
  VersionLabelEntity,
  RolloutEntity,
  ApiKeyEntity,
  AuditEventEntity,
  MetricBucketEntity,
  ConfigStateEntity,
  CanaryRunEntity,
];
