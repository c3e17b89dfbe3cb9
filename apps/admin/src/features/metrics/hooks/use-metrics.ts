import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useApi } from '../../../api/api-context';
import { queryKeys } from '../../../api/query-keys';
import { rangeQuery, type RangeId } from '../metrics-series';

export const AUTO_REFRESH_MS = 5_000;

/**
 * GET /metrics for one model over a range ending now. The window is computed when the
 * query runs, not in its key, so each auto-refresh slides it forward.
 */
export function useMetrics(model: string | undefined, range: RangeId, autoRefresh: boolean) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.metrics(model ?? '', range),
    queryFn: () => api.metrics({ model, ...rangeQuery(range, Date.now()) }),
    enabled: model !== undefined,
    refetchInterval: autoRefresh ? AUTO_REFRESH_MS : false,
    placeholderData: keepPreviousData,
  });
}
