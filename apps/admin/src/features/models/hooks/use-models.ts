import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useApi } from '../../../api/api-context';
import { queryKeys } from '../../../api/query-keys';

/** A version on its way somewhere: the page follows it closely until it lands. */
const MOVING = new Set(['START', 'LOADING', 'UNLOADING']);
const MOVING_POLL_MS = 1_000;
/** Otherwise still polled: a load, unload or upload lands after its request returns, and other operators change things too. */
const POLL_MS = 5_000;

export function useModels() {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.models,
    queryFn: () => api.models(),
    refetchInterval: (query) => (query.state.data?.some((m) => m.versions.some((v) => MOVING.has(v.state))) ? MOVING_POLL_MS : POLL_MS),
  });
}

export function useModel(model: string | undefined) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.model(model ?? ''),
    queryFn: () => api.model(model as string),
    enabled: model !== undefined,
  });
}

/** A registry change shows in the models list, the overview and the audit log. */
function invalidateRegistry(qc: QueryClient) {
  void qc.invalidateQueries({ queryKey: queryKeys.models });
  void qc.invalidateQueries({ queryKey: queryKeys.overview });
  void qc.invalidateQueries({ queryKey: queryKeys.auditAll });
}

export interface RegisterVersionInput {
  model: string;
  files: File[];
  tokenizer: File;
}

export function useRegisterVersion() {
  const api = useApi();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ model, files, tokenizer }: RegisterVersionInput) => api.registerVersion(model, files, tokenizer),
    onSuccess: () => invalidateRegistry(qc),
  });
}

export interface SetLabelsInput {
  model: string;
  labels: Record<string, number | null>;
}

export function useSetLabels() {
  const api = useApi();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ model, labels }: SetLabelsInput) => api.setLabels(model, labels),
    onSuccess: (view) => {
      qc.setQueryData(queryKeys.model(view.name), view);
      invalidateRegistry(qc);
      void qc.invalidateQueries({ queryKey: queryKeys.rollout(view.name) });
    },
  });
}

export interface SetPinnedInput {
  model: string;
  version: number;
  pinned: boolean;
}

export function useSetPinned() {
  const api = useApi();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ model, version, pinned }: SetPinnedInput) => api.setPinned(model, version, pinned),
    onSuccess: () => invalidateRegistry(qc),
  });
}
