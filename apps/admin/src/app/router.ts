import { useSyncExternalStore } from 'react';
import type { Role } from '../api/types';

// A hash router: the gateway serves the console as static files at /admin, so the page
// part of the URL never reaches the server and deep links work without a fallback.

export type PageId = 'overview' | 'playground' | 'models' | 'rollout' | 'canary' | 'metrics' | 'audit' | 'api-keys';

export interface Route {
  page: PageId;
  /** The model a page is about, for rollout, canary and metrics (#/rollout/spam). */
  model?: string;
}

export interface PageEntry {
  id: PageId;
  title: string;
  /** The least role that may open the page; the API enforces the same. */
  role: Role;
}

export const PAGES: readonly PageEntry[] = [
  { id: 'overview', title: 'Overview', role: 'client' },
  { id: 'playground', title: 'Playground', role: 'client' },
  { id: 'models', title: 'Models', role: 'operator' },
  { id: 'rollout', title: 'Rollout', role: 'operator' },
  { id: 'canary', title: 'Canary', role: 'operator' },
  { id: 'metrics', title: 'Metrics', role: 'operator' },
  { id: 'audit', title: 'Audit log', role: 'operator' },
  { id: 'api-keys', title: 'API keys', role: 'admin' },
];

export function parseHash(hash: string): Route {
  // A page may keep its own state after '?' (#/playground/spam?text=…); the route ignores it.
  const [page, ...rest] = hash.replace(/^#\/?/, '').split('?')[0].split('/');
  const entry = PAGES.find((p) => p.id === page);
  if (!entry) return { page: 'overview' };
  const model = rest.length > 0 && rest[0] ? decodeURIComponent(rest[0]) : undefined;
  return model ? { page: entry.id, model } : { page: entry.id };
}

/**
 * The hash URL for a page typed as a path (/admin/rollout/spam, which the gateway answers with the
 * console for any /admin/* path), or undefined when the URL is the console's own. Pages live in the
 * hash only, so without this the path showed the Overview.
 */
export function hashForPath(pathname: string, hash: string): string | undefined {
  if (hash) return undefined;
  const rest = /^\/admin\/(.+?)\/?$/.exec(pathname)?.[1];
  if (!rest || rest === 'index.html') return undefined;
  const route = parseHash(`#/${rest}`);
  return route.page === 'overview' && !rest.startsWith('overview') ? undefined : hrefFor(route);
}

export function hrefFor(route: Route): string {
  return `#/${route.page}${route.model ? `/${encodeURIComponent(route.model)}` : ''}`;
}

export function navigate(route: Route): void {
  window.location.hash = hrefFor(route);
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseHash(hash);
}
