import { QueryClient } from '@tanstack/react-query';
import { ApiError } from '../api/api-error';

/** 4xx answers are final (retrying a 403 only delays the message); network and 5xx get one more try. */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: (failures, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && failures < 1,
        refetchOnWindowFocus: false,
        staleTime: 5_000,
      },
    },
  });
}
