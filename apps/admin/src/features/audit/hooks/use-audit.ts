import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useApi } from '../../../api/api-context';
import { queryKeys } from '../../../api/query-keys';
import type { AuditQuery } from '../../../api/types';

/** One page of the audit log; the previous page stays on screen while the next loads. */
export function useAudit(query: AuditQuery) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.audit(query),
    queryFn: () => api.audit(query),
    placeholderData: keepPreviousData,
  });
}
