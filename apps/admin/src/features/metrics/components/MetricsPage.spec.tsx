import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeAdminApi } from '../../../test/fake-admin-api';
import { metricSeries } from '../../../test/fixtures';
import { OPERATOR_KEY, renderApp } from '../../../test/render-app';
import { METRICS } from '../metrics-series';

// The page loads recharts lazily; transforming it the first time can take longer than a
// findBy waits on a busy machine, so it is loaded once before the tests.
beforeAll(async () => {
  await import('./MetricsCharts');
}, 30_000);

describe('metrics page', () => {
  it('draws every metric with one line per version and a legend naming them', async () => {
    const api = new FakeAdminApi();
    api.series = metricSeries([1, 2, 3]);
    renderApp({ api, key: OPERATOR_KEY, hash: '#/metrics/spam' });

    for (const m of METRICS) {
      const chart = await screen.findByTestId(`chart-${m.key}`);
      const legend = within(chart).getByRole('list', { name: `${m.title} legend` });
      expect(within(legend).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['v1', 'v2', 'v3']);
    }
    // Shadow agreement exists for v2 only in the fixture; latency for all three.
    await waitFor(() => expect(screen.getByTestId('chart-p99Ms').querySelectorAll('.recharts-line')).toHaveLength(3));
    expect(screen.getByTestId('chart-p99Ms').querySelectorAll('path.recharts-line-curve')).toHaveLength(3);

    const call = api.callsTo('GET', '/metrics')[0].query;
    expect(call.get('model')).toBe('spam');
    expect(Number(call.get('to')) - Number(call.get('from'))).toBe(3600_000);
    expect(call.get('step')).toBe('30');
  });

  it('names every chart that takes keyboard focus after what it plots', async () => {
    renderApp({ key: OPERATOR_KEY, hash: '#/metrics/spam' });
    for (const m of METRICS) {
      const chart = await screen.findByTestId(`chart-${m.key}`);
      await waitFor(() => expect(chart.querySelector('svg')).not.toBeNull());
      const stops = [...chart.querySelectorAll<HTMLElement | SVGElement>('[tabindex]')].filter((e) => e.tabIndex >= 0);
      // The one tab stop is the chart itself, and its name says what it plots.
      expect(stops).toEqual([within(chart).getByRole('application', { name: `${m.title} chart, one line per version: v1, v2` })]);
    }
  });

  it('asks for the chosen time range', async () => {
    const user = userEvent.setup();
    const { api } = renderApp({ key: OPERATOR_KEY, hash: '#/metrics/spam' });
    await screen.findByTestId('chart-requestsPerSecond');
    await user.click(screen.getByLabelText('7d'));
    await waitFor(() => expect(api.callsTo('GET', '/metrics')).toHaveLength(2));
    const call = api.callsTo('GET', '/metrics')[1].query;
    expect(Number(call.get('to')) - Number(call.get('from'))).toBe(7 * 24 * 3600_000);
    expect(call.get('step')).toBe('5040');
    expect(screen.getByLabelText('7d')).toHaveProperty('checked', true);
  });

  it('refreshes by itself every 5 s while auto-refresh is on', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
      const { api } = renderApp({ key: OPERATOR_KEY, hash: '#/metrics/spam' });
      await screen.findByTestId('chart-requestsPerSecond');
      await act(() => vi.advanceTimersByTimeAsync(6_000));
      expect(api.callsTo('GET', '/metrics')).toHaveLength(1);

      await user.click(screen.getByLabelText(/Auto-refresh/));
      await act(() => vi.advanceTimersByTimeAsync(5_000));
      await waitFor(() => expect(api.callsTo('GET', '/metrics')).toHaveLength(2));
      const [first, second] = api.callsTo('GET', '/metrics').map((c) => Number(c.query.get('to')));
      // The window slides: each refresh ends at its own now.
      expect(second - first).toBeGreaterThanOrEqual(5_000);
    } finally {
      vi.useRealTimers();
    }
  });

  it('says when a model has no metrics in the range', async () => {
    const api = new FakeAdminApi();
    api.series = [];
    renderApp({ api, key: OPERATOR_KEY, hash: '#/metrics/spam' });
    expect(await screen.findByText('No version of spam has metrics in this range.')).toBeTruthy();
  });

  it('shows a failed load', async () => {
    const api = new FakeAdminApi();
    api.failNext('GET', /^\/metrics$/, 400, 'step must be a multiple of 10', 'INVALID_ARGUMENT');
    renderApp({ api, key: OPERATOR_KEY, hash: '#/metrics/spam' });
    expect((await screen.findByRole('alert')).textContent).toMatch(/step must be a multiple of 10/);
  });
});
