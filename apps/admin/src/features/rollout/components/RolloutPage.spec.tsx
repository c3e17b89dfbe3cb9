import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { FakeAdminApi } from '../../../test/fake-admin-api';
import { OPERATOR_KEY, renderApp } from '../../../test/render-app';

const diffRows = () =>
  within(screen.getByTestId('rollout-diff'))
    .queryAllByRole('row')
    .slice(1)
    .map((r) => Array.from(r.children).map((c) => c.textContent));

describe('rollout page', () => {
  it('draws the current split', async () => {
    renderApp({ key: OPERATOR_KEY, hash: '#/rollout/spam' });
    const now = await screen.findByTestId('rollout-split');
    expect(within(now).getByRole('img').getAttribute('aria-label')).toBe('Now: stable v1 90%, canary v2 10%, no shadow, sticky');
  });

  it('keeps the slider and the number in step and previews the change before saving', async () => {
    const user = userEvent.setup();
    const { api } = renderApp({ key: OPERATOR_KEY, hash: '#/rollout/spam' });
    const number = (await screen.findByLabelText('Canary weight (%)')) as HTMLInputElement;
    const slider = screen.getByLabelText('Canary weight slider') as HTMLInputElement;
    expect([number.value, slider.value]).toEqual(['10', '10']);
    expect(screen.getByText('No changes yet.')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Save rollout' })).toHaveProperty('disabled', true);

    fireEvent.change(slider, { target: { value: '40' } });
    expect(number.value).toBe('40');

    await user.clear(number);
    await user.type(number, '25');
    expect(slider.value).toBe('25');
    await user.clear(number);
    await user.type(number, '250');
    expect(number.getAttribute('aria-invalid')).toBe('true');
    expect(slider.value).toBe('25');
    await user.clear(number);
    await user.type(number, '25');

    await user.click(screen.getByLabelText(/^Sticky/));
    expect(diffRows()).toEqual([
      ['Canary weight', '10%', '25%'],
      ['Sticky', 'on', 'off'],
    ]);
    expect(within(screen.getByTestId('rollout-split-edited')).getByRole('img').getAttribute('aria-label')).toMatch(/stable v1 75%, canary v2 25%/);
    expect(api.callsTo('PUT', '/models/spam/rollout')).toHaveLength(0);

    await user.click(screen.getByRole('button', { name: 'Save rollout' }));
    expect((await screen.findByText('Saved the rollout of spam.')).getAttribute('role')).toBe('status');
    expect(api.callsTo('PUT', '/models/spam/rollout')[0].body).toEqual({ canary: 2, canaryWeight: 25, cohortRules: [], sticky: false });
    expect(within(screen.getByTestId('rollout-split')).getByRole('img').getAttribute('aria-label')).toBe('Now: stable v1 75%, canary v2 25%, no shadow, not sticky');
    expect(screen.getByText('No changes yet.')).toBeTruthy();
  });

  it('adds and removes cohort pins and sets a shadow', async () => {
    const user = userEvent.setup();
    const { api } = renderApp({ key: OPERATOR_KEY, hash: '#/rollout/spam' });
    await user.type(await screen.findByLabelText('Value'), 'beta');
    await user.selectOptions(screen.getByLabelText('Pinned version'), '2');
    await user.click(screen.getByRole('button', { name: 'Add pin' }));
    await user.clear(screen.getByLabelText('Header'));
    await user.type(screen.getByLabelText('Header'), 'x team');
    await user.type(screen.getByLabelText('Value'), 'ml');
    await user.click(screen.getByRole('button', { name: 'Add pin' }));
    expect(screen.getByRole('alert').textContent).toMatch(/letters, digits and dashes/);

    await user.selectOptions(screen.getByLabelText('Shadow version'), '1');
    fireEvent.change(screen.getByLabelText('Shadow share slider'), { target: { value: '5' } });
    expect(diffRows()).toEqual([
      ['Shadow', 'none', 'v1 at 5%'],
      ['Cohort pin', 'none', 'x-cohort: beta → v2'],
    ]);
    await user.click(screen.getByRole('button', { name: 'Save rollout' }));
    await screen.findByText('Saved the rollout of spam.');
    expect(api.callsTo('PUT', '/models/spam/rollout')[0].body).toMatchObject({
      cohortRules: [{ header: 'x-cohort', value: 'beta', version: 2 }],
      shadow: { version: 1, share: 5 },
    });

    await user.click(screen.getByRole('button', { name: 'Remove pin x-cohort: beta' }));
    expect(diffRows()).toEqual([['Cohort pin', 'x-cohort: beta → v2', 'removed']]);
  });

  it('shows the server’s refusal in place', async () => {
    const user = userEvent.setup();
    renderApp({ key: OPERATOR_KEY, hash: '#/rollout/spam' });
    await user.selectOptions(await screen.findByLabelText('Canary version'), '3');
    await user.click(screen.getByRole('button', { name: 'Save rollout' }));
    expect((await screen.findByRole('alert')).textContent).toBe('spam v3 is not AVAILABLE');
  });

  it('promotes only after confirmation', async () => {
    const user = userEvent.setup();
    const { api } = renderApp({ key: OPERATOR_KEY, hash: '#/rollout/spam' });
    await user.click(await screen.findByRole('button', { name: 'Promote canary' }));
    const dialog = screen.getByRole('dialog');
    expect(dialog.textContent).toMatch(/Promote canary v2 of spam to stable\?/);
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Cancel' }));
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(api.callsTo('POST', /promote$/)).toHaveLength(0);

    await user.click(screen.getByRole('button', { name: 'Promote canary' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Confirm' }));
    expect(await screen.findByText('Promoted the canary to stable.')).toBeTruthy();
    expect(api.callsTo('POST', '/models/spam/rollout/promote')).toHaveLength(1);
    expect(api.models[0].labels.stable).toBe(2);
    await waitFor(() => expect(within(screen.getByTestId('rollout-split')).getByRole('img').getAttribute('aria-label')).toMatch(/^Now: stable v2 100%, no canary/));
    expect(screen.getByRole('button', { name: 'Promote canary' })).toHaveProperty('disabled', true);
    expect(screen.getByRole('button', { name: 'Roll back' })).toHaveProperty('disabled', true);
  });

  it('rolls back after confirmation and lists the model’s history', async () => {
    const user = userEvent.setup();
    const api = new FakeAdminApi();
    renderApp({ api, key: OPERATOR_KEY, hash: '#/rollout/spam' });
    const history = await screen.findByTestId('rollout-history');
    expect(api.callsTo('GET', '/audit')[0].query.get('target')).toBe('model:spam');
    expect(within(history).getAllByRole('listitem')).toHaveLength(2);

    await user.click(screen.getByRole('button', { name: 'Roll back' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Confirm' }));
    expect(await screen.findByText('Rolled back: the canary is cleared.')).toBeTruthy();
    expect(api.models[0].labels.stable).toBe(1);
  });
});
