export { Database, databaseOptionsFromEnv, type DatabaseOptions, type Unlisten } from './database/database';
export { isInt32 } from './database/int32';
export { isStoreUnreachable } from './database/store-unreachable';
export * from './entities';
export { AuditService, type AuditInput, type AuditEventView, type AuditQuery } from './audit/audit.service';
export { ChangeNotifier, announceChange, CONFIG_CHANNEL, type ConfigChange, type ChangeNotifierOptions } from './changes/change-notifier';
export { RegistryService, type LabelChanges } from './registry/registry.service';
export type { ImportReport } from './registry/repository-import';
export { checkUpload, type VersionUpload, type UploadedFile, type LoadValidator } from './registry/version-upload';
export { artifactChecksum } from './registry/artifact-checksum';
export type { ModelView, VersionView } from './registry/views';
export {
  CanaryService,
  canaryRunView,
  assertNoCanaryRun,
  type CanaryRouting,
  type CanaryRunStatus,
  type StepOutcome,
} from './canary/canary.service';
export { judgeWindow, wilsonInterval, twoProportionZ, Z_95_ONE_SIDED, type CanaryWindow, type GateVerdict, type VersionWindow } from './canary/canary-gates';
export { RolloutService, type RolloutInput, type RolloutView } from './rollout/rollout.service';
export { ApiKeyService, hasRole, actorOf, extractApiKey, type ApiKeyView, type ApiKeyServiceOptions } from './auth/api-key.service';
export {
  MetricsStore,
  labelAgreement,
  BUCKET_MS,
  type RequestSample,
  type ShadowSample,
  type ComparisonSample,
  type VersionTotals,
  type MetricsQuery,
  type MetricSeries,
  type MetricPoint,
  type MetricsStoreOptions,
} from './metrics/metrics-store';
export { LATENCY_BOUNDS_MS, quantile } from './metrics/histogram';
export { computeDesiredState, planReconcile, type DesiredState, type DesiredVersion, type LoadedVersion } from './control-plane/desired-state';
export { loadRoutingSnapshot, type ModelRouting, type ResolvedRollout, type RoutedVersion } from './control-plane/routing-snapshot';
export {
  ControlPlane,
  controlPlaneEnvShape,
  controlPlaneEnvSchema,
  controlPlaneOptionsFromEnv,
  type ControlPlaneEnv,
  type ControlPlaneOptions,
} from './control-plane/control-plane';
export { TestDatabase } from './testing/test-database';
