import { hrefFor } from '../../app/router';

/** What the playground shows, kept in the URL (#/playground/spam?text=…&v=1,2) so a link reproduces the view. */
export interface PlaygroundState {
  model?: string;
  texts: string[];
  /** undefined: every AVAILABLE version. */
  versions?: number[];
}

export function parsePlaygroundState(hash: string, model: string | undefined): PlaygroundState {
  const query = hash.includes('?') ? hash.slice(hash.indexOf('?') + 1) : '';
  const params = new URLSearchParams(query);
  const texts = params.getAll('text').filter((t) => t.length > 0);
  const v = params.get('v');
  const versions =
    v === null
      ? undefined
      : [...new Set(v.split(',').filter((x) => /^\d+$/.test(x)).map(Number))].sort((a, b) => a - b);
  return { model, texts, ...(versions ? { versions } : {}) };
}

export function playgroundHref(state: PlaygroundState): string {
  const params = new URLSearchParams();
  for (const t of state.texts) params.append('text', t);
  if (state.versions) params.set('v', state.versions.join(','));
  const query = params.toString();
  return hrefFor({ page: 'playground', model: state.model }) + (query ? `?${query}` : '');
}

/** Texts from the editor: one per line, blank lines dropped. */
export function textsFromInput(input: string): string[] {
  return input
    .split('\n')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/** The top labels of the versions that answered, or null when they all agree (or fewer than two answered). */
export function disagreement(labels: Array<{ version: number; label: string }>): Array<{ version: number; label: string }> | null {
  return new Set(labels.map((l) => l.label)).size > 1 ? labels : null;
}
