import { useQueries, useQuery } from '@tanstack/react-query';
import { useSyncExternalStore } from 'react';
import { useApi } from '../../../api/api-context';
import { queryKeys } from '../../../api/query-keys';
import { runVersion } from '../api/playground-api';

/** GET /catalog: models and versions a client key may call. */
export function useCatalog() {
  const api = useApi();
  return useQuery({ queryKey: queryKeys.catalog, queryFn: () => api.catalog() });
}

/**
 * One query per version, so each version's card loads and fails on its own. A run is a
 * fact about the URL's texts: it is not refetched behind the user's back (that would
 * change latencies under their eyes and add traffic they did not ask for).
 */
export function useVersionRuns(model: string | undefined, versions: number[], texts: string[]) {
  const api = useApi();
  return useQueries({
    queries: versions.map((version) => ({
      queryKey: queryKeys.playground(model ?? '', version, texts),
      queryFn: () => runVersion(api, model as string, version, texts),
      enabled: model !== undefined && texts.length > 0,
      staleTime: Infinity,
      refetchOnWindowFocus: false,
    })),
  });
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

/** The whole hash, query part included (the router only reads the page and model). */
export function useHash(): string {
  return useSyncExternalStore(subscribe, () => window.location.hash);
}
