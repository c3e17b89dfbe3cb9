import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiProvider } from '../api/api-context';
import { createApiClient, type ApiClient } from '../api/client';
import { sessionKeyStore, type KeyStore } from '../api/key-store';
import { SessionGate } from '../features/session/components/SessionGate';
import { createQueryClient } from './query-client';
import { Shell } from './Shell';

export interface AppProps {
  /** Tests pass their own; the console uses sessionStorage and /admin/api on the same origin. */
  keyStore?: KeyStore;
  api?: ApiClient;
  queryClient?: QueryClient;
}

export function App({ keyStore = sessionKeyStore, api, queryClient }: AppProps) {
  const [client] = useState(() => queryClient ?? createQueryClient());
  const [apiClient] = useState(() => api ?? createApiClient({ keyStore }));
  return (
    <QueryClientProvider client={client}>
      <ApiProvider api={apiClient}>
        <SessionGate keyStore={keyStore}>
          <Shell />
        </SessionGate>
      </ApiProvider>
    </QueryClientProvider>
  );
}
