import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { FakeAdminApi } from '../../../test/fake-admin-api';
import { auditEvents } from '../../../test/fixtures';
import { OPERATOR_KEY, renderApp } from '../../../test/render-app';

const firstIds = () =>
  within(screen.getByRole('table', { name: 'Audit events' }))
    .getAllByRole('row')
    .slice(1)
    .map((r) => within(r).getAllByRole('cell')[4].textContent);

function setup() {
  const api = new FakeAdminApi();
  api.audit = auditEvents(60);
  return { user: userEvent.setup(), ...renderApp({ api, key: OPERATOR_KEY, hash: '#/audit' }) };
}

describe('audit log', () => {
  it('pages with Older and Newer by keyset', async () => {
    const { user, api } = setup();
    await screen.findByRole('table', { name: 'Audit events' });
    // The change column of event n reads {"canaryWeight":n-1} → …; the newest is 60.
    expect(firstIds()).toHaveLength(25);
    expect(firstIds()[0]).toContain('"canaryWeight":59}');
    const newer = screen.getByRole('button', { name: 'Newer' });
    expect(newer).toHaveProperty('disabled', true);

    await user.click(screen.getByRole('button', { name: 'Older' }));
    await waitFor(() => expect(firstIds()[0]).toContain('"canaryWeight":34}'));
    expect(api.callsTo('GET', '/audit').at(-1)?.query.get('beforeId')).toBe('36');
    await user.click(screen.getByRole('button', { name: 'Older' }));
    await waitFor(() => expect(firstIds()).toHaveLength(10));
    expect(screen.getByRole('button', { name: 'Older' })).toHaveProperty('disabled', true);

    await user.click(screen.getByRole('button', { name: 'Newer' }));
    await waitFor(() => expect(firstIds()[0]).toContain('"canaryWeight":34}'));
    await user.click(screen.getByRole('button', { name: 'Newer' }));
    await waitFor(() => expect(firstIds()[0]).toContain('"canaryWeight":59}'));
    expect(screen.getByRole('button', { name: 'Newer' })).toHaveProperty('disabled', true);
  });

  it('filters by actor, action and target, starting again from the newest', async () => {
    const { user, api } = setup();
    await screen.findByRole('table', { name: 'Audit events' });
    await user.click(screen.getByRole('button', { name: 'Older' }));
    await user.type(screen.getByLabelText('Actor'), 'ops-key');
    await user.selectOptions(screen.getByLabelText('Action'), 'label.set');
    await user.type(screen.getByLabelText('Target'), 'model:spam');
    await user.click(screen.getByRole('button', { name: 'Filter' }));

    await waitFor(() => expect(api.callsTo('GET', '/audit').at(-1)?.query.get('actor')).toBe('ops-key'));
    const q = api.callsTo('GET', '/audit').at(-1)?.query;
    expect([q?.get('action'), q?.get('target'), q?.get('beforeId')]).toEqual(['label.set', 'model:spam', null]);
    await waitFor(() =>
      expect(
        within(screen.getByRole('table', { name: 'Audit events' }))
          .getAllByRole('row')
          .slice(1)
          .every((r) => r.textContent?.includes('ops-key') && r.textContent.includes('label.set')),
      ).toBe(true),
    );
  });

  it('says when nothing matches', async () => {
    const { user } = setup();
    await screen.findByRole('table', { name: 'Audit events' });
    await user.type(screen.getByLabelText('Actor'), 'nobody');
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    expect(await screen.findByText('No audit events match.')).toBeTruthy();
  });
});
