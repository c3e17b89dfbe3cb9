// The admin API's wire shapes (docs/admin-api.md): one definition for the gateway that
// answers with them (through @servable/persistence) and the console that reads them.
// Request bodies are zod schemas (http/admin.ts, through @servable/contracts/http), which the
// gateway validates with and documents in its OpenAPI; their types are inferred here with
// type-only imports, so the console's bundle gets no zod. Nothing Node-specific.
import type { z } from 'zod';
import type {
  apiKeyInputSchema,
  canaryGatesSchema,
  canaryRunInputSchema,
  cohortRuleSchema,
  labelsInputSchema,
  pinInputSchema,
  rolloutInputSchema,
} from './http/admin';

/** Lowest first, as the gateway ranks them. */
export const ROLES = ['client', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** TF Serving's ModelVersionStatus states. START = registered, never loaded. */
export const VERSION_STATES = ['START', 'LOADING', 'AVAILABLE', 'UNLOADING', 'END', 'FAILED'] as const;
export type VersionState = (typeof VERSION_STATES)[number];

export interface ApiKeyView {
  id: number;
  name: string;
  prefix: string;
  role: Role;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface SessionView {
  auth: 'on' | 'off';
  /** null when asked without a key while auth is on: the console must sign in. */
  role: Role | null;
  key: ApiKeyView | null;
}

/** One data-plane replica's grpc.health.v1 status as the gateway last read it (UNKNOWN: not read yet). */
export interface ReplicaHealthView {
  address: string;
  status: 'SERVING' | 'NOT_SERVING' | 'UNREACHABLE' | 'UNKNOWN';
  detail?: string;
}

export interface ServiceHealth {
  name: 'gateway' | 'tokenizer' | 'inference';
  /** SERVING when at least one replica is. */
  status: 'SERVING' | 'NOT_SERVING' | 'UNREACHABLE';
  /** inference: the TF.js backend in use, e.g. "wasm". */
  backend?: string;
  detail?: string;
  /** tokenizer and inference: every replica behind the service's address. */
  replicas?: ReplicaHealthView[];
}

/** One inference replica's state of a version, as the reconcile loop last saw it. */
export interface ReplicaVersionState {
  address: string;
  /** The replica answers its health check with SERVING (only those get requests). */
  serving: boolean;
  state: VersionState;
  /** Why it failed there, in the replica's words. */
  detail?: string;
}

export interface ModelSummary {
  model: string;
  versions: number;
  available: number;
  /** Over the last hour; null when there was no traffic. */
  requestsPerSecond: number;
  errorRate: number | null;
  p99Ms: number | null;
}

export interface OverviewView {
  services: ServiceHealth[];
  models: ModelSummary[];
  from: string;
  to: string;
}

/** One held-out split's metrics. Every field but `split` is optional: an uploaded version records what it has. */
export interface SplitEvaluationView {
  /** e.g. "test" (whole messages) or "test_short" (subjects and sentences of the same messages). */
  split: string;
  description?: string;
  examples?: number;
  accuracy?: number;
  /** Precision, recall and F1 of the positive label (the last class label, e.g. spam). */
  precision?: number;
  recall?: number;
  f1?: number;
  /** label -> recall: for spam, ham's recall is the share of good mail that gets through. */
  recallByLabel?: Record<string, number>;
  /** Expected calibration error (10 bins): how far the scores are from the accuracy they claim. */
  ece?: number;
}

/** servable.json's `evaluation`, per split. A flat record (one split, no `splits`) reads as split "test". */
export interface EvaluationView {
  splits: SplitEvaluationView[];
  /** The temperature the output was scaled by to calibrate the scores, when the trainer did. */
  temperature?: number;
}

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
  /** From servable.json's `evaluation`; null when it has none. */
  evaluation: EvaluationView | null;
  source: 'import' | 'upload';
  createdAt: string;
  /** Each inference replica's state of this version (empty before the gateway's first reconcile pass). */
  replicas?: ReplicaVersionState[];
}

export interface ModelView {
  name: string;
  /** label → version */
  labels: Record<string, number>;
  versions: VersionView[];
}

/** A cohort rule: requests whose header has this value go to this version. */
export type CohortRule = z.infer<typeof cohortRuleSchema>;
/** PUT /admin/api/models/:model/rollout */
export type RolloutInput = z.input<typeof rolloutInputSchema>;

export interface RolloutView {
  model: string;
  /** null: the version the `stable` label points at. */
  stableVersion: number | null;
  canary?: number;
  canaryWeight: number;
  cohortRules: CohortRule[];
  sticky: boolean;
  shadow?: { version: number; share: number };
  updatedAt: string;
}

export const CANARY_RUN_STATES = ['RUNNING', 'PROMOTED', 'ROLLED_BACK', 'ABORTED', 'FAILED'] as const;
export type CanaryRunState = (typeof CANARY_RUN_STATES)[number];

/** The analysis a canary run applies at the end of every step (docs/canary.md). */
export type CanaryGates = z.infer<typeof canaryGatesSchema>;
/** POST /admin/api/models/:model/canary-runs */
export type CanaryRunInput = z.input<typeof canaryRunInputSchema>;

/** One analysis at the end of a step: canary against stable over the same window. */
export interface CanaryCheck {
  at: string;
  step: number;
  weight: number;
  /** Canary requests in the window. */
  requests: number;
  errorRate: number | null;
  p99Ms: number | null;
  stableRequests: number;
  stableErrorRate: number | null;
  stableP99Ms: number | null;
  /** Mirrored requests compared with stable, and the share that agreed. */
  comparisons: number;
  agreement: number | null;
  /** The two-proportion z statistic of canary vs stable error rate (positive: canary worse). */
  errorZ: number | null;
  /** 95% Wilson upper bound of the agreement. */
  agreementUpper: number | null;
  passed: boolean;
  /** 'passed', 'extended', or which gate failed and by how much. */
  reason: string;
  /** The step was too thin and got extended rather than judged. */
  extended?: boolean;
}

export interface CanaryRunView {
  id: number;
  model: string;
  stable: number;
  canary: number;
  state: CanaryRunState;
  stepIndex: number;
  weight: number;
  steps: number[];
  stepSeconds: number;
  gates: CanaryGates;
  sticky: boolean;
  mirrorShare: number;
  maxExtensions: number;
  /** When the current step ends (RUNNING only). */
  stepEndsAt?: string;
  startedAt: string;
  startedBy: string;
  finishedAt?: string;
  /** Why the run ended (the failing gate, "aborted by ..."). */
  reason?: string;
  checks: CanaryCheck[];
}

export interface MetricPoint {
  t: string;
  requests: number;
  requestsPerSecond: number;
  errors: Record<string, number>;
  errorRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  meanTokenizeMs: number | null;
  meanInferenceMs: number | null;
  meanBatchSize: number | null;
  cacheHitRate: number | null;
  shadowRequests: number;
  shadowAgreement: number | null;
  shadowMeanLatencyMs: number | null;
}

export interface MetricSeries {
  model: string;
  version: number;
  points: MetricPoint[];
}

export interface MetricsView {
  from: string;
  to: string;
  step: number;
  series: MetricSeries[];
}

/** Query parameters of GET /admin/api/metrics. */
export interface MetricsParams {
  model?: string;
  version?: number;
  /** ISO 8601 or epoch ms. */
  from?: string | number;
  to?: string | number;
  /** Seconds, a multiple of 10. */
  step?: number;
}

export interface AuditEventView {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

export interface AuditPage {
  events: AuditEventView[];
  nextBeforeId?: number;
}

/** Query parameters of GET /admin/api/audit. */
export interface AuditParams {
  actor?: string;
  action?: string;
  target?: string;
  from?: string;
  to?: string;
  limit?: number;
  beforeId?: number;
}

/** PUT /admin/api/models/:model/labels */
export type LabelsInput = z.infer<typeof labelsInputSchema>;
/** PUT /admin/api/models/:model/versions/:version/pin */
export type PinInput = z.infer<typeof pinInputSchema>;
/** POST /admin/api/api-keys */
export type ApiKeyInput = z.infer<typeof apiKeyInputSchema>;

export interface CreatedApiKey {
  /** The plaintext key: the API shows it this once. */
  key: string;
  apiKey: ApiKeyView;
}


export const AUDIT_ACTIONS = [
  'registry.import',
  'version.register',
  'label.set',
  'version.pin',
  'rollout.set',
  'rollout.clear',
  'rollout.promote',
  'rollout.rollback',
  'api_key.create',
  'api_key.revoke',
  'canary.start',
  'canary.step',
  'canary.promote',
  'canary.rollback',
  'canary.abort',
  'canary.fail',
] as const;

const RANK: Record<Role, number> = { client: 0, operator: 1, admin: 2 };

/** Roles rank admin > operator > client, as the gateway checks them. */
export function hasRole(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/**
 * GET /admin/api/catalog, for any key (client and up): what a caller may send requests
 * to, without the registry's artefact paths and evaluation (GET /models, operator).
 */
export interface CatalogVersionView {
  version: number;
  state: VersionState;
  /** Version labels (stable, canary, …) that point here. */
  labels: string[];
  /** Kept loaded by an operator's pin. */
  pinned: boolean;
  tokenizerHash: string;
  maxLength: number;
  classLabels: string[];
}

export interface CatalogModelView {
  name: string;
  versions: CatalogVersionView[];
}
