import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useApi } from '../../../api/api-context';
import { queryKeys } from '../../../api/query-keys';
import type { CanaryRunInput, CanaryRunView } from '../../../api/types';

/** While a run is RUNNING its steps and checks change every few seconds: poll. */
const LIVE_REFRESH_MS = 1_000;

/** The model's runs, newest first; polled while one of them is running. */
export function useCanaryRuns(model: string | undefined) {
  const api = useApi();
  const qc = useQueryClient();
  return useQuery({
    queryKey: queryKeys.canaryRuns(model ?? ''),
    queryFn: async () => {
      const before = qc.getQueryData<CanaryRunView[]>(queryKeys.canaryRuns(model as string));
      const runs = await api.canaryRuns(model as string);
      // A run that ended on its own (promoted, rolled back) moved labels and the rollout: show them.
      if (before?.some((r) => r.state === 'RUNNING') && !runs.some((r) => r.state === 'RUNNING')) {
        void qc.invalidateQueries({ queryKey: queryKeys.models });
        void qc.invalidateQueries({ queryKey: queryKeys.rollout(model as string) });
        void qc.invalidateQueries({ queryKey: queryKeys.auditAll });
      }
      return runs;
    },
    enabled: model !== undefined,
    refetchInterval: (q) => (q.state.data?.some((r) => r.state === 'RUNNING') ? LIVE_REFRESH_MS : false),
  });
}

/** A run moves labels (promote) and the rollout, and writes audit events. */
function settle(qc: QueryClient, model: string, run: CanaryRunView) {
  qc.setQueryData<CanaryRunView[]>(queryKeys.canaryRuns(model), (runs = []) => [run, ...runs.filter((r) => r.id !== run.id)]);
  void qc.invalidateQueries({ queryKey: queryKeys.canaryRuns(model) });
  void qc.invalidateQueries({ queryKey: queryKeys.models });
  void qc.invalidateQueries({ queryKey: queryKeys.rollout(model) });
  void qc.invalidateQueries({ queryKey: queryKeys.auditAll });
}

export function useStartCanaryRun(model: string) {
  const api = useApi();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: CanaryRunInput) => api.startCanaryRun(model, input),
    onSuccess: (run) => settle(qc, model, run),
  });
}

export function useAbortCanaryRun(model: string) {
  const api = useApi();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api.abortCanaryRun(model, id),
    onSuccess: (run) => settle(qc, model, run),
  });
}
