import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { FakeAdminApi } from '../test/fake-admin-api';
import { ADMIN_KEY, CLIENT_KEY, OPERATOR_KEY, renderApp } from '../test/render-app';

const navLinks = () =>
  within(screen.getByRole('navigation', { name: 'Main' }))
    .getAllByRole('link')
    .map((a) => a.textContent);

describe('signing in', () => {
  it('verifies the key with /session, keeps it in sessionStorage and shows the role', async () => {
    const user = userEvent.setup();
    const { api } = renderApp();
    const input = await screen.findByLabelText('API key');
    await user.type(input, OPERATOR_KEY);
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByTestId('session-role')).toHaveProperty('textContent', 'operator');
    expect(sessionStorage.getItem('servable.apiKey')).toBe(OPERATOR_KEY);
    expect(api.callsTo('GET', '/session').at(-1)?.key).toBe(OPERATOR_KEY);
    expect(navLinks()).toEqual(['Overview', 'Playground', 'Models', 'Rollout', 'Canary', 'Metrics', 'Audit log']);
  });

  it('says so in place when the key is refused, and keeps nothing', async () => {
    const user = userEvent.setup();
    renderApp();
    await user.type(await screen.findByLabelText('API key'), 'svb_wrong');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/not accepted/);
    expect(sessionStorage.getItem('servable.apiKey')).toBeNull();
  });

  it('skips sign-in when the gateway runs with auth off', async () => {
    const api = new FakeAdminApi();
    api.auth = 'off';
    renderApp({ api });
    expect((await screen.findByTestId('session-role')).textContent).toBe('auth off (dev mode)');
    expect(screen.queryByLabelText('API key')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Sign out' })).toBeNull();
    expect(api.requests[0]).toMatchObject({ path: '/session', key: null });
    expect(navLinks()).toContain('API keys');
  });

  it('signs out: forgets the key and shows the sign-in page', async () => {
    const user = userEvent.setup();
    renderApp({ key: ADMIN_KEY });
    await user.click(await screen.findByRole('button', { name: 'Sign out' }));
    expect(await screen.findByLabelText('API key')).toBeTruthy();
    expect(sessionStorage.getItem('servable.apiKey')).toBeNull();
  });

  it('asks to sign in again when a stored key has been revoked', async () => {
    const api = new FakeAdminApi();
    api.keys[1].revokedAt = '2026-01-01T00:00:00Z';
    renderApp({ api, key: OPERATOR_KEY });
    expect(await screen.findByText(/no longer accepted/)).toBeTruthy();
    expect(screen.getByLabelText('API key')).toBeTruthy();
    expect(sessionStorage.getItem('servable.apiKey')).toBeNull();
  });

  it('says so when the gateway does not answer, and tries again on Retry', async () => {
    const user = userEvent.setup();
    const api = new FakeAdminApi();
    let up = false;
    renderApp({ fetch: (input, init) => (up ? api.fetch(input, init) : Promise.reject(new Error('connection refused'))) });
    expect((await screen.findByRole('alert')).textContent).toContain('connection refused');
    up = true;
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByLabelText('API key')).toBeTruthy();
  });
});

describe('roles', () => {
  it('shows a client the overview and the playground only', async () => {
    renderApp({ key: CLIENT_KEY, hash: '#/models' });
    expect(await screen.findByText(/Models needs the operator role; your key has the client role/)).toBeTruthy();
    expect(navLinks()).toEqual(['Overview', 'Playground']);
  });

  it('tells an operator that API keys are for admins', async () => {
    const { api } = renderApp({ key: OPERATOR_KEY, hash: '#/api-keys' });
    expect(await screen.findByText(/API keys needs the admin role/)).toBeTruthy();
    expect(api.callsTo('GET', '/api-keys')).toHaveLength(0);
  });
});

describe('keyboard', () => {
  it('skips to the content of the page it is on, never to another page', async () => {
    renderApp({ key: OPERATOR_KEY, hash: '#/audit' });
    await screen.findByRole('heading', { name: 'Audit log', level: 1 });
    await userEvent.click(screen.getByRole('link', { name: 'Skip to content' }));
    expect(window.location.hash).toBe('#/audit');
    expect(document.activeElement?.id).toBe('main');
  });
});
