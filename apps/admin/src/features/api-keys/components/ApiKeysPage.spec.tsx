import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { FakeAdminApi } from '../../../test/fake-admin-api';
import { apiKey } from '../../../test/fixtures';
import { ADMIN_KEY, renderApp } from '../../../test/render-app';
import stylesheet from '../../../styles.css?raw';

describe('API keys page', () => {
  it('creates a key and shows its plaintext once, with a copy button', async () => {
    const user = userEvent.setup();
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const { api } = renderApp({ key: ADMIN_KEY, hash: '#/api-keys' });

    await user.type(await screen.findByLabelText('Name'), 'billing');
    await user.selectOptions(screen.getByLabelText('Role'), 'operator');
    await user.click(screen.getByRole('button', { name: 'Create key' }));

    const panel = await screen.findByTestId('new-api-key');
    expect(within(panel).getByTestId('new-api-key-value').textContent).toBe('svb_new_billing');
    expect(api.callsTo('POST', '/api-keys')[0].body).toEqual({ name: 'billing', role: 'operator' });
    await user.click(within(panel).getByRole('button', { name: 'Copy key' }));
    expect(writeText).toHaveBeenCalledWith('svb_new_billing');
    expect(within(panel).getByRole('status').textContent).toBe('Copied to the clipboard.');
    expect(await screen.findByRole('rowheader', { name: 'billing' })).toBeTruthy();

    await user.click(within(panel).getByRole('button', { name: 'Done' }));
    expect(screen.queryByText('svb_new_billing')).toBeNull();
  });

  it('revokes a key only after confirmation', async () => {
    const user = userEvent.setup();
    const { api } = renderApp({ key: ADMIN_KEY, hash: '#/api-keys' });
    await user.click(await screen.findByRole('button', { name: /^Revoke app \(svb_app…\)$/ }));
    expect(screen.getByRole('dialog').textContent).toMatch(/Revoke the key “app”\?/);
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Cancel' }));
    expect(api.callsTo('DELETE', /^\/api-keys\//)).toHaveLength(0);

    await user.click(screen.getByRole('button', { name: /^Revoke app \(svb_app…\)$/ }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Confirm' }));
    await waitFor(() => expect(screen.getByRole('button', { name: /^Revoke app \(svb_app…\)$/ })).toHaveProperty('disabled', true));
    expect(api.callsTo('DELETE', '/api-keys/3')).toHaveLength(1);
    expect(within(screen.getByRole('button', { name: /^Revoke app \(svb_app…\)$/ }).closest('tr') as HTMLElement).getByText(/^revoked/)).toBeTruthy();
  });

  it('clears a refused revoke once a key is created, since its reason no longer holds', async () => {
    const user = userEvent.setup();
    const { api } = renderApp({ key: ADMIN_KEY, hash: '#/api-keys' });
    api.failNext('DELETE', /^\/api-keys\//, 409, 'API key 1 is the last active admin key; create another admin key before revoking it', 'FAILED_PRECONDITION');
    await user.click(await screen.findByRole('button', { name: /^Revoke root \(/ }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Confirm' }));
    expect(await screen.findByText(/the last active admin key/)).toBeTruthy();
    await user.type(screen.getByLabelText('Name'), 'second-admin');
    await user.selectOptions(screen.getByLabelText('Role'), 'admin');
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    await screen.findByTestId('new-api-key');
    expect(screen.queryByText(/the last active admin key/)).toBeNull();
  });

  it('signs out when the admin revokes the key in use', async () => {
    const user = userEvent.setup();
    renderApp({ key: ADMIN_KEY, hash: '#/api-keys' });
    await user.click(await screen.findByRole('button', { name: /^Revoke root \(/ }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Confirm' }));
    expect(await screen.findByText(/no longer accepted/)).toBeTruthy();
    expect(screen.getByLabelText('API key')).toBeTruthy();
    expect(sessionStorage.getItem('servable.apiKey')).toBeNull();
  });

  it('lets long key names wrap, and scrolls the table sideways when it is still too wide', async () => {
    // jsdom lays nothing out, but it cascades: with the console's stylesheet in, a cell says how it wraps.
    const style = document.createElement('style');
    style.textContent = stylesheet;
    document.head.append(style);
    try {
      const api = new FakeAdminApi();
      const long = 'billing_service_production_eu_west_1_primary';
      api.keys.push({ ...apiKey(4, long, 'client'), createdBy: 'bootstrap_admin_key_for_the_eu_cluster', secret: 'svb_long' });
      renderApp({ api, key: ADMIN_KEY, hash: '#/api-keys' });
      const name = await screen.findByRole('rowheader', { name: long });
      // An unbroken name set the table's minimum width, so at 800 px the Revoke column went out of view.
      expect(getComputedStyle(name).overflowWrap).toBe('anywhere');
      expect(getComputedStyle(within(name.closest('tr') as HTMLElement).getByText('bootstrap_admin_key_for_the_eu_cluster')).overflowWrap).toBe('anywhere');
      const table = screen.getByRole('table', { name: 'API keys' });
      expect(getComputedStyle(table.parentElement as HTMLElement).overflowX).toBe('auto');
    } finally {
      style.remove();
    }
  });
});
