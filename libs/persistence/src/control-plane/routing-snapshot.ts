import type { DataSource } from 'typeorm';
import { manifestSchema, type ModelManifest } from '@servable/model-repository';
import type { CanaryRouting } from '../canary/canary.service';
import type { CohortRuleRow, VersionState } from '../entities';

/** A rollout with `stable` resolved; structurally the `Rollout` of @servable/routing. */
export interface ResolvedRollout {
  stable: number;
  canary?: number;
  canaryWeight: number;
  cohortRules: CohortRuleRow[];
  sticky: boolean;
  shadow?: { version: number; share: number };
}

/** A registered version as requests see it: its state and its servable.json, parsed once per snapshot. */
export interface RoutedVersion {
  version: number;
  state: VersionState;
  stateDetail: string | null;
  manifest: ModelManifest;
}

export interface ModelRouting {
  model: string;
  /** Every registered version, ascending. */
  versions: RoutedVersion[];
  /** label → version */
  labels: Record<string, number>;
  /** Absent when the model has no rollout, or neither it nor a `stable` label names a stable version. */
  rollout?: ResolvedRollout;
  /** Versions in state AVAILABLE, ascending. */
  available: number[];
  /** A RUNNING canary run (issue 17): its weight is already in `rollout`; this adds what to mirror to stable. */
  canaryRun?: CanaryRouting;
}

/**
 * Everything a request needs, read in four queries: the one read model of the request path
 * (versions, their states and manifests, labels, rollouts). The gateway keeps the result in
 * memory and reloads it on every config or state change, so no request touches the database.
 */
export async function loadRoutingSnapshot(dataSource: DataSource): Promise<Map<string, ModelRouting>> {
  const models: Array<{ id: number; name: string }> = await dataSource.query(`SELECT id, name FROM model ORDER BY name`);
  const versions: Array<{ model_id: number; version: number; state: VersionState; state_detail: string | null; manifest: unknown }> = await dataSource.query(
    `SELECT model_id, version, state, state_detail, manifest FROM model_version ORDER BY version`,
  );
  const labels: Array<{ model_id: number; label: string; version: number }> = await dataSource.query(
    `SELECT l.model_id, l.label, v.version FROM version_label l JOIN model_version v ON v.id = l.version_id`,
  );
  const rollouts: Array<{
    model_id: number;
    stable_version: number | null;
    canary_version: number | null;
    canary_weight: number;
    cohort_rules: CohortRuleRow[];
    sticky: boolean;
    shadow_version: number | null;
    shadow_share: number;
  }> = await dataSource.query(`SELECT * FROM rollout`);
  const canaryRuns = await loadRunningCanaries(dataSource);
  const out = new Map<string, ModelRouting>();
  for (const m of models) {
    const labelMap = Object.fromEntries(labels.filter((l) => l.model_id === m.id).map((l) => [l.label, l.version]));
    const r = rollouts.find((x) => x.model_id === m.id);
    const stable = r?.stable_version ?? labelMap['stable'];
    const own = versions.filter((v) => v.model_id === m.id);
    out.set(m.name, {
      model: m.name,
      versions: own.map((v) => ({
        version: v.version,
        state: v.state,
        stateDetail: v.state_detail,
        // Checked by parseManifest when registered; read back with the schema alone, so a rule
        // added since (distinct labels) cannot stop the snapshot, and with it routing of every model.
        manifest: manifestSchema.parse(v.manifest),
      })),
      labels: labelMap,
      available: own.filter((v) => v.state === 'AVAILABLE').map((v) => v.version),
      rollout:
        r && stable !== undefined
          ? {
              stable,
              canary: r.canary_version ?? undefined,
              canaryWeight: r.canary_weight,
              cohortRules: r.cohort_rules,
              sticky: r.sticky,
              shadow: r.shadow_version !== null ? { version: r.shadow_version, share: r.shadow_share } : undefined,
            }
          : undefined,
      canaryRun: canaryRuns.get(m.id),
    });
  }
  return out;
}

/** RUNNING canary runs by model id: one row per model at most (a partial unique index). */
async function loadRunningCanaries(dataSource: DataSource): Promise<Map<number, CanaryRouting>> {
  const rows: Array<{ id: number; model_id: number; stable_version: number; canary_version: number; weight: number; mirror_share: number }> = await dataSource.query(
    `SELECT id, model_id, stable_version, canary_version, weight, mirror_share FROM canary_run WHERE state = 'RUNNING'`,
  );
  return new Map(rows.map((r) => [r.model_id, { id: r.id, stable: r.stable_version, canary: r.canary_version, weight: r.weight, mirrorShare: r.mirror_share }]));
}
