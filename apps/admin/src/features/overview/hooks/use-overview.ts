import { useQuery } from '@tanstack/react-query';
import { useApi } from '../../../api/api-context';
import { queryKeys } from '../../../api/query-keys';

/** GET /overview, refreshed every 10 s: health is what people come to this page for. */
export function useOverview() {
  const api = useApi();
  return useQuery({ queryKey: queryKeys.overview, queryFn: () => api.overview(), refetchInterval: 10_000 });
}
