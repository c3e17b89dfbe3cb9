import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { FakeAdminApi } from '../../../test/fake-admin-api';
import { CLIENT_KEY, renderApp } from '../../../test/render-app';

describe('overview', () => {
  it('shows each service’s health with the inference backend, and per-model traffic', async () => {
    renderApp({ key: CLIENT_KEY });
    const inference = await screen.findByTestId('service-inference');
    expect(within(inference).getByText('SERVING')).toBeTruthy();
    expect(within(inference).getByText('wasm')).toBeTruthy();
    expect(within(screen.getByTestId('service-tokenizer')).getByText('SERVING')).toBeTruthy();
    const row = screen.getByRole('row', { name: /spam/ });
    expect(Array.from(row.children).map((c) => c.textContent)).toEqual(['spam', '3 (2 available)', '4.20', '0.50%', '18 ms']);
  });

  it('says when no model is registered', async () => {
    const api = new FakeAdminApi();
    api.models = [];
    renderApp({ api, key: CLIENT_KEY });
    expect(await screen.findByText('No models are registered yet.')).toBeTruthy();
  });

  it('shows the error when the overview fails', async () => {
    const api = new FakeAdminApi();
    api.failNext('GET', /^\/overview$/, 503, 'tokenizer is unreachable', 'UNAVAILABLE');
    renderApp({ api, key: CLIENT_KEY });
    expect((await screen.findByRole('alert')).textContent).toMatch(/Could not load the overview:.*tokenizer is unreachable/);
  });
});
