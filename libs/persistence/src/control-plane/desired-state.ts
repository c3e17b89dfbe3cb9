import { join } from 'node:path';
import type { DataSource } from 'typeorm';

export interface DesiredVersion {
  model: string;
  version: number;
  /** Absolute path of the version directory. */
  dir: string;
  tokenizerHash: string;
  /** Why it must be loaded: "label:stable", "rollout:canary", "rollout:shadow", "rollout:cohort", "pin". */
  reasons: string[];
}

export interface DesiredState {
  versions: DesiredVersion[];
  /** Every tokenizer a desired version needs: the tokenizer service loads exactly these. */
  tokenizers: Array<{ hash: string; path: string }>;
}

/**
 * What the data plane should hold: every version named by a label, a rollout or a pin,
 * and their tokenizers. A version named by nothing is not desired and gets unloaded.
 */
export async function computeDesiredState(dataSource: DataSource, repositoryRoot: string): Promise<DesiredState> {
  const rows: Array<{ model: string; version: number; artifact_path: string; tokenizer_hash: string; tokenizer_path: string; reason: string }> =
    await dataSource.query(`
      WITH named AS (
        SELECT l.version_id AS id, 'label:' || l.label AS reason FROM version_label l
        UNION ALL SELECT v.id, 'pin' FROM model_version v WHERE v.pinned
        UNION ALL SELECT v.id, 'rollout:stable' FROM rollout r JOIN model_version v ON v.model_id = r.model_id AND v.version = r.stable_version
        UNION ALL SELECT v.id, 'rollout:canary' FROM rollout r JOIN model_version v ON v.model_id = r.model_id AND v.version = r.canary_version
        UNION ALL SELECT v.id, 'rollout:shadow' FROM rollout r JOIN model_version v ON v.model_id = r.model_id AND v.version = r.shadow_version
        UNION ALL SELECT v.id, 'rollout:cohort' FROM rollout r
          CROSS JOIN LATERAL jsonb_array_elements(r.cohort_rules) AS c(rule)
          JOIN model_version v ON v.model_id = r.model_id AND v.version = (c.rule ->> 'version')::int
      )
      SELECT m.name AS model, v.version, v.artifact_path, v.tokenizer_hash, t.path AS tokenizer_path, n.reason
      FROM named n JOIN model_version v ON v.id = n.id JOIN model m ON m.id = v.model_id JOIN tokenizer t ON t.hash = v.tokenizer_hash
      ORDER BY m.name, v.version, n.reason`);
  const versions = new Map<string, DesiredVersion>();
  const tokenizers = new Map<string, string>();
  for (const r of rows) {
    const key = `${r.model}/${r.version}`;
    let v = versions.get(key);
    if (!v) {
      v = { model: r.model, version: r.version, dir: join(repositoryRoot, r.artifact_path), tokenizerHash: r.tokenizer_hash, reasons: [] };
      versions.set(key, v);
    }
    if (!v.reasons.includes(r.reason)) v.reasons.push(r.reason);
    tokenizers.set(r.tokenizer_hash, join(repositoryRoot, r.tokenizer_path));
  }
  return { versions: [...versions.values()], tokenizers: [...tokenizers].map(([hash, path]) => ({ hash, path })) };
}

export interface LoadedVersion {
  model: string;
  version: number;
}

/** The reconcile step: what to load and what to unload so the data plane matches the desired state. */
export function planReconcile(desired: DesiredState, loaded: LoadedVersion[]): { load: DesiredVersion[]; unload: LoadedVersion[] } {
  const want = new Set(desired.versions.map((v) => `${v.model}/${v.version}`));
  const have = new Set(loaded.map((v) => `${v.model}/${v.version}`));
  return {
    load: desired.versions.filter((v) => !have.has(`${v.model}/${v.version}`)),
    unload: loaded.filter((v) => !want.has(`${v.model}/${v.version}`)),
  };
}
