import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { FakeAdminApi } from '../../../test/fake-admin-api';
import { runningCanaryRun } from '../../../test/fixtures';
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

  it('says what range a weight takes when one is out of range, and does not save until it is fixed', async () => {
    const user = userEvent.setup();
    const { api } = renderApp({ key: OPERATOR_KEY, hash: '#/rollout/spam' });
    const number = (await screen.findByLabelText('Canary weight (%)')) as HTMLInputElement;
    const save = screen.getByRole('button', { name: 'Save rollout' });
    await user.click(screen.getByLabelText(/^Sticky/));
    await user.clear(number);
    await user.type(number, '150');
    // Leaving the field (to click Save) keeps the bad number and says why it is bad.
    await user.click(save);
    expect(number.value).toBe('150');
    expect(number.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByRole('alert').textContent).toBe('150 is out of range. Enter a percentage from 0 to 100.');
    expect(number.getAttribute('aria-describedby')).toBe(screen.getByRole('alert').id);
    expect(save).toHaveProperty('disabled', true);
    expect(save.getAttribute('aria-describedby')).toBe('rollout-save-blocked');
    expect(document.getElementById('rollout-save-blocked')?.textContent).toBe('Save is off until the canary weight is from 0 to 100.');
    expect(api.callsTo('PUT', '/models/spam/rollout')).toHaveLength(0);

    await user.clear(number);
    await user.type(number, '-5');
    await user.tab();
    expect(screen.getByRole('alert').textContent).toBe('-5 is out of range. Enter a percentage from 0 to 100.');

    // Discarding drops the bad text too, though the draft never held it.
    await user.click(screen.getByRole('button', { name: 'Discard changes' }));
    expect((screen.getByLabelText('Canary weight (%)') as HTMLInputElement).value).toBe('10');
    expect(screen.queryByRole('alert')).toBeNull();

    await user.click(screen.getByLabelText(/^Sticky/));
    await user.click(screen.getByRole('button', { name: 'Save rollout' }));
    await screen.findByText('Saved the rollout of spam.');
    expect(api.callsTo('PUT', '/models/spam/rollout')[0].body).toMatchObject({ canaryWeight: 10, sticky: false });
  });

  it('says when a running canary run drives the rollout, links to it, and offers no edits', async () => {
    const api = new FakeAdminApi();
    api.canaryRuns = [runningCanaryRun()];
    renderApp({ api, key: OPERATOR_KEY, hash: '#/rollout/spam' });
    const notice = await screen.findByTestId('canary-run-notice');
    expect(notice.textContent).toMatch(/^Canary run 7 drives this rollout\. It is RUNNING: v2 takes 10% of traffic at step 1 of 3\./);
    expect(within(notice).getByRole('link', { name: 'Watch or abort the run on the Canary page' }).getAttribute('href')).toBe('#/canary/spam');
    expect(api.callsTo('GET', '/models/spam/canary-runs').length).toBeGreaterThan(0);

    for (const label of ['Canary version', 'Canary weight (%)', 'Canary weight slider', 'Shadow version', 'Header']) {
      expect(screen.getByLabelText(label).matches(':disabled')).toBe(true);
    }
    for (const name of ['Save rollout', 'Promote canary', 'Roll back', 'Clear rollout']) {
      expect(screen.getByRole('button', { name }).matches(':disabled')).toBe(true);
    }
  });

  it('edits again once no run is RUNNING', async () => {
    const api = new FakeAdminApi();
    api.canaryRuns = [runningCanaryRun({ state: 'ABORTED', finishedAt: '2026-01-01T12:02:00.000Z' })];
    renderApp({ api, key: OPERATOR_KEY, hash: '#/rollout/spam' });
    const number = await screen.findByLabelText('Canary weight (%)');
    await waitFor(() => expect(api.callsTo('GET', '/models/spam/canary-runs')).toHaveLength(1));
    expect(screen.queryByTestId('canary-run-notice')).toBeNull();
    expect(number.matches(':disabled')).toBe(false);
    expect(screen.getByRole('button', { name: 'Promote canary' }).matches(':disabled')).toBe(false);
  });

  it('says a model in the URL does not exist, and selects no other model in its place', async () => {
    const user = userEvent.setup();
    const { api } = renderApp({ key: OPERATOR_KEY, hash: '#/rollout/nope' });
    expect((await screen.findByRole('alert')).textContent).toBe('Model not found: There is no model named “nope”. Choose one above.');
    const picker = screen.getByLabelText('Model') as HTMLSelectElement;
    expect(picker.value).toBe('');
    expect(picker.selectedOptions[0].textContent).toBe('Choose a model…');
    expect(screen.queryByRole('heading', { name: 'Edit the rollout' })).toBeNull();
    expect(api.callsTo('GET', /\/rollout$/)).toHaveLength(0);

    await user.selectOptions(picker, 'spam');
    await waitFor(() => expect(window.location.hash).toBe('#/rollout/spam'));
    expect(await screen.findByRole('heading', { name: 'Edit the rollout' })).toBeTruthy();
    expect((screen.getByLabelText('Model') as HTMLSelectElement).value).toBe('spam');
  });
});
