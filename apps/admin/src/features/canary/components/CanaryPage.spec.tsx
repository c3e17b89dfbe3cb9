import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { CanaryRunView } from '../../../api/types';
import { FakeAdminApi } from '../../../test/fake-admin-api';
import { runningCanaryRun } from '../../../test/fixtures';
import { OPERATOR_KEY, renderApp } from '../../../test/render-app';

/** A run that rolled back at its first check: the fixtures' running run, finished. */
function finishedRun(over: Partial<CanaryRunView> = {}): CanaryRunView {
  const reason = 'agreement 0.0% over 40 mirrored requests: its 95% upper bound 6.3% < minAgreement 95.0%';
  return runningCanaryRun({
    id: 1,
    state: 'ROLLED_BACK',
    weight: 0,
    stepEndsAt: undefined,
    finishedAt: '2026-01-01T12:01:00.000Z',
    reason,
    checks: [
      {
        at: '2026-01-01T12:01:00.000Z', step: 0, weight: 10, requests: 120, errorRate: 0, p99Ms: 12, stableRequests: 1080, stableErrorRate: 0.001,
        stableP99Ms: 11, comparisons: 40, agreement: 0, errorZ: null, agreementUpper: 0.063, passed: false,
        reason,
      },
    ],
    ...over,
  });
}

describe('canary page', () => {
  it('starts a run from the form with the gates as fractions, then shows it live and aborts it', async () => {
    const user = userEvent.setup();
    const api = new FakeAdminApi();
    api.models[0].versions[1].state = 'AVAILABLE';
    renderApp({ key: OPERATOR_KEY, hash: '#/canary/spam', api });
    expect(await screen.findByText('Stable is v1. New uploads take no traffic until a label move, a rollout or a canary run.')).toBeTruthy();
    // Only AVAILABLE versions other than stable can be the canary: v2 (v3 is LOADING).
    const select = (await screen.findByLabelText('Canary version')) as HTMLSelectElement;
    expect(Array.from(select.options).map((o) => o.value)).toEqual(['', '2']);
    await user.clear(screen.getByLabelText('Steps (weight %)'));
    await user.type(screen.getByLabelText('Steps (weight %)'), '20, 10, 100');
    await user.click(screen.getByRole('button', { name: 'Start run' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Steps must go up.');
    expect(api.callsTo('POST', '/models/spam/canary-runs')).toHaveLength(0);

    await user.clear(screen.getByLabelText('Steps (weight %)'));
    await user.type(screen.getByLabelText('Steps (weight %)'), '20, 50, 100');
    await user.clear(screen.getByLabelText('Min agreement (%)'));
    await user.type(screen.getByLabelText('Min agreement (%)'), '90');
    await user.click(screen.getByRole('button', { name: 'Start run' }));
    await screen.findByText('Started run 1: v2 takes 20% of traffic.');
    expect(api.callsTo('POST', '/models/spam/canary-runs')[0].body).toEqual({
      canary: 2,
      steps: [20, 50, 100],
      stepSeconds: 60,
      gates: { maxErrorRate: 0.01, maxP99Ratio: 1.5, minAgreement: 0.9, minRequests: 100 },
      sticky: true,
      mirrorShare: 50,
    });
    const live = await screen.findByTestId('canary-live');
    expect(live.textContent).toMatch(/Run 1: v2 against stable v1RUNNING/);
    expect(screen.getByTestId('canary-status').textContent).toMatch(/^Step 1 of 3: the canary takes 20% of traffic/);

    await user.click(within(live).getByRole('button', { name: 'Abort run' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Confirm' }));
    await screen.findByText('Aborted run 1: all traffic is back on stable v1.');
    await waitFor(() => expect(screen.queryByTestId('canary-live')).toBeNull());
    expect(within(screen.getByTestId('canary-history')).getByText('ABORTED')).toBeTruthy();
  });

  it("compares against the rollout's stable version when it names one, as the server does", async () => {
    const api = new FakeAdminApi();
    api.models[0].versions[1].state = 'AVAILABLE';
    // The label says v1, the rollout says v2: runs judge against v2, so v1 is the candidate.
    api.rollouts.set('spam', { ...api.rollouts.get('spam')!, stableVersion: 2, canary: undefined, canaryWeight: 0 });
    renderApp({ key: OPERATOR_KEY, hash: '#/canary/spam', api });
    expect(await screen.findByText(/^Stable is v2\./)).toBeTruthy();
    const select = (await screen.findByLabelText('Canary version')) as HTMLSelectElement;
    expect(Array.from(select.options).map((o) => o.value)).toEqual(['', '1']);
  });

  it('lists finished runs with their checks: canary against stable', async () => {
    const api = new FakeAdminApi();
    api.canaryRuns = [finishedRun()];
    renderApp({ key: OPERATOR_KEY, hash: '#/canary/spam', api });
    const history = await screen.findByTestId('canary-history');
    await waitFor(() => expect(history.textContent).toMatch(/Run 1: v2 against v1 ROLLED_BACK/));
    const row = within(history).getAllByRole('row')[1];
    expect(Array.from(row.children).map((c) => c.textContent).slice(1)).toEqual([
      '1 · 10%',
      '120 / 1080',
      '0.00% / 0.10%',
      '12 ms / 11 ms',
      '0.0% (40)',
      expect.stringMatching(/^failed agreement 0\.0% over 40/),
    ]);
  });

  it('says when a model has no stable label and routes to its latest version', async () => {
    const api = new FakeAdminApi();
    api.models[0].labels = {};
    renderApp({ key: OPERATOR_KEY, hash: '#/canary/spam', api });
    expect((await screen.findByTestId('no-stable-note')).textContent).toMatch(/latest AVAILABLE version, as in TF Serving/);
    expect(screen.queryByRole('button', { name: 'Start run' })).toBeNull();
  });
});
