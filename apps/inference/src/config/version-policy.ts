/** TF Serving's model_version_policy, for every model in the repository. */
export type VersionPolicy =
  | { kind: 'all' }
  | { kind: 'none' }
  | { kind: 'latest'; count: number }
  | { kind: 'specific'; versions: Record<string, number[]> };

export function parseVersionPolicy(text: string): VersionPolicy {
  const value = text.trim();
  if (value === 'all' || value === 'none') return { kind: value };
  const latest = /^latest(?::(\d+))?$/.exec(value);
  if (latest) {
    const count = Number(latest[1] ?? 1);
    if (count < 1) throw new Error('latest:N needs N >= 1');
    return { kind: 'latest', count };
  }
  if (value.startsWith('specific:')) {
    const versions: Record<string, number[]> = {};
    for (const part of value.slice('specific:'.length).split(';').filter(Boolean)) {
      const [model, list] = part.split('=');
      const numbers = (list ?? '').split(',').map((v) => Number(v.trim()));
      if (!model || numbers.length === 0 || numbers.some((n) => !Number.isInteger(n) || n < 1)) {
        throw new Error(`bad specific policy part "${part}"; expected model=1,2`);
      }
      versions[model.trim()] = numbers;
    }
    return { kind: 'specific', versions };
  }
  throw new Error(`unknown MODEL_VERSION_POLICY "${text}"; expected all, none, latest:N or specific:model=1,2;other=3`);
}

/** The versions a policy selects among those present, for one model. */
export function selectVersions(policy: VersionPolicy, model: string, present: number[]): number[] {
  const sorted = [...present].sort((a, b) => a - b);
  switch (policy.kind) {
    case 'all':
      return sorted;
    case 'none':
      return [];
    case 'latest':
      return sorted.slice(-policy.count);
    case 'specific':
      return (policy.versions[model] ?? []).filter((v) => sorted.includes(v));
  }
}
