import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useApi } from '../../../api/api-context';
import { queryKeys } from '../../../api/query-keys';
import type { Role } from '../../../api/types';

export function useApiKeys() {
  const api = useApi();
  return useQuery({ queryKey: queryKeys.apiKeys, queryFn: () => api.apiKeys() });
}

export function useCreateApiKey() {
  const api = useApi();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ name, role }: { name: string; role: Role }) => api.createApiKey(name, role),
    // The plaintext stays in the component that shows it once, never in the query cache.
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.apiKeys });
      void qc.invalidateQueries({ queryKey: queryKeys.auditAll });
    },
  });
}

export function useRevokeApiKey() {
  const api = useApi();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api.revokeApiKey(id),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.apiKeys });
      void qc.invalidateQueries({ queryKey: queryKeys.auditAll });
    },
  });
}
