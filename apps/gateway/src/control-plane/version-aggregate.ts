import type { ReplicaVersionState, VersionState } from '@servable/contracts/admin-api';

/**
 * One registry state for a version from each inference replica's state of it.
 *
 * AVAILABLE means a request to the version is served: the first time, only once every
 * SERVING replica holds it, so an upload reported AVAILABLE serves from every replica at
 * once. After that it stays AVAILABLE while any replica holds it (a replica that joins or
 * restarts loads it without taking the version out of traffic; requests go only to the
 * replicas that hold it). FAILED only when it failed everywhere; a failure on some replicas
 * is named in the detail. Replicas that are not SERVING (starting, draining) count only
 * when none is.
 */
export function aggregateVersionState(replicas: ReplicaVersionState[], previous: VersionState): { state: VersionState; detail: string | null } {
  const serving = replicas.filter((r) => r.serving);
  const considered = serving.length ? serving : replicas;
  const states = considered.map((r) => r.state);
  const failures = considered.filter((r) => r.state === 'FAILED').map((r) => `${r.address}: ${r.detail ?? 'failed to load'}`);
  const detail = failures.length ? failures.join('; ') : null;
  const some = (s: VersionState) => states.includes(s);
  const all = (s: VersionState) => states.length > 0 && states.every((x) => x === s);

  if (all('AVAILABLE')) return { state: 'AVAILABLE', detail: null };
  if (previous === 'AVAILABLE' && some('AVAILABLE')) return { state: 'AVAILABLE', detail };
  if (some('LOADING') || (some('START') && some('AVAILABLE'))) return { state: 'LOADING', detail };
  if (some('START')) return { state: previous === 'START' ? 'START' : 'LOADING', detail };
  if (some('AVAILABLE')) return { state: 'AVAILABLE', detail };
  if (some('UNLOADING')) return { state: 'UNLOADING', detail };
  if (all('FAILED')) return { state: 'FAILED', detail };
  if (some('FAILED') && !some('END')) return { state: 'FAILED', detail };
  return { state: 'END', detail: null };
}
