import { QueryClient } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import { vi } from 'vitest';
import { App } from '../app/App';
import { FakeAdminApi } from './fake-admin-api';

export interface RenderAppOptions {
  /** A key already in sessionStorage, as after an earlier sign-in. */
  key?: string;
  hash?: string;
  api?: FakeAdminApi;
  /** Instead of the fake API, e.g. a fetch that fails as a dead gateway does. */
  fetch?: typeof fetch;
}

/** The whole console against the fake API; no retries, so error states show at once. */
export function renderApp({ key, hash = '#/overview', api = new FakeAdminApi(), fetch }: RenderAppOptions = {}) {
  if (key) sessionStorage.setItem('servable.apiKey', key);
  window.location.hash = hash;
  vi.stubGlobal('fetch', fetch ?? api.fetch);
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } } });
  const view = render(<App queryClient={queryClient} />);
  return { ...view, api, queryClient };
}

export const ADMIN_KEY = 'svb_admin';
export const OPERATOR_KEY = 'svb_operator';
export const CLIENT_KEY = 'svb_client';
