import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useApi } from '../../../api/api-context';
import { queryKeys } from '../../../api/query-keys';
import type { RolloutInput, RolloutView } from '../../../api/types';

export function useRollout(model: string | undefined) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.rollout(model ?? ''),
    queryFn: () => api.rollout(model as string),
    enabled: model !== undefined,
  });
}

/** After any rollout change: the new rollout, and the labels (promote moves `stable`) and history. */
function settle(qc: QueryClient, model: string, rollout: RolloutView | null) {
  qc.setQueryData(queryKeys.rollout(model), { rollout });
  void qc.invalidateQueries({ queryKey: queryKeys.models });
  void qc.invalidateQueries({ queryKey: queryKeys.auditAll });
}

export function useSaveRollout(model: string) {
  const api = useApi();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: RolloutInput) => api.setRollout(model, input),
    onSuccess: (r) => settle(qc, model, r),
  });
}

export type RolloutAction = 'promote' | 'rollback' | 'clear';

export function useRolloutAction(model: string) {
  const api = useApi();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (action: RolloutAction): Promise<RolloutView | null> => {
      if (action === 'promote') return api.promote(model);
      if (action === 'rollback') return api.rollback(model);
      await api.clearRollout(model);
      return null;
    },
    onSuccess: (r) => settle(qc, model, r),
  });
}
