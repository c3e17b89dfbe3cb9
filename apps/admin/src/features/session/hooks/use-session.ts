import { useMutation, useQuery } from '@tanstack/react-query';
import { useApi } from '../../../api/api-context';
import { ApiError } from '../../../api/api-error';
import type { KeyStore } from '../../../api/key-store';
import { queryKeys } from '../../../api/query-keys';

/**
 * GET /session with the key in hand (null: none, to find out whether auth is off). A key
 * the gateway refuses (revoked, or the database was reset) is dropped from the store.
 */
export function useSessionQuery(key: string | null, keyStore: KeyStore) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.session(key),
    queryFn: async () => {
      try {
        return await api.session(key);
      } catch (err) {
        if (key !== null && err instanceof ApiError && err.status === 401 && keyStore.get() === key) keyStore.clear();
        throw err;
      }
    },
    retry: false,
    staleTime: Infinity,
  });
}

/** Asks /session about a key before the console keeps it. */
export function useVerifyKey() {
  const api = useApi();
  return useMutation({ mutationFn: (key: string) => api.session(key) });
}
