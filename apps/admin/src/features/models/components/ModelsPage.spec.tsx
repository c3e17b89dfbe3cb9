import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { FakeAdminApi } from '../../../test/fake-admin-api';
import { version } from '../../../test/fixtures';
import { ADMIN_KEY, OPERATOR_KEY, renderApp } from '../../../test/render-app';

describe('models page', () => {
  it('lists each version with state, labels and short tokenizer hash', async () => {
    renderApp({ key: OPERATOR_KEY, hash: '#/models' });
    const row = await screen.findByTestId('version-row-spam-1');
    const cells = within(row);
    expect(cells.getByRole('rowheader').textContent).toBe('v1');
    expect(cells.getByText('AVAILABLE')).toBeTruthy();
    expect(cells.getByText('stable')).toBeTruthy();
    expect(cells.getByText('f1ad517b8eb1').getAttribute('title')).toHaveLength(64);
    expect(within(screen.getByTestId('version-row-spam-3')).getByText('LOADING')).toBeTruthy();
  });

  it('says which inference replica holds a version, and why one failed', async () => {
    renderApp({ key: OPERATOR_KEY, hash: '#/models' });
    const replicas = await screen.findByTestId('replicas-spam-3');
    expect(within(replicas).getByText('1/2 replicas')).toBeTruthy();
    expect(replicas.textContent).toContain('10.0.0.8:50052 FAILED: out of memory');
  });

  it('shows each version’s evaluation per held-out split, newest version first', async () => {
    renderApp({ key: OPERATOR_KEY, hash: '#/models' });
    const table = await screen.findByRole('table', { name: 'Evaluation of spam per split' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => r.getAttribute('data-testid'))).toEqual([3, 2, 1].flatMap((v) => [`evaluation-spam-${v}-test`, `evaluation-spam-${v}-test_short`]));
    const whole = within(screen.getByTestId('evaluation-spam-1-test'));
    expect(whole.getByText('98.6%')).toBeTruthy(); // accuracy 0.9861
    expect(whole.getByText('0.978')).toBeTruthy(); // f1 0.9775
    expect(whole.getByText('ham 99.3% · spam 94.9%')).toBeTruthy();
    expect(whole.getByText('0.012')).toBeTruthy(); // ECE 0.0123
    const short = within(screen.getByTestId('evaluation-spam-1-test_short'));
    expect(short.getByText('(short texts)')).toBeTruthy();
    expect(short.getByText('2058')).toBeTruthy();
    expect(short.getByText('91.2%')).toBeTruthy(); // accuracy 0.9121
    expect(short.getByText('ham 95.1% · spam 82.4%')).toBeTruthy();
  });

  it('reads what an uploaded version records, and leaves out a version without an evaluation', async () => {
    const api = new FakeAdminApi();
    api.models[0].versions = [version(1, { evaluation: null }), version(2, { evaluation: { splits: [{ split: 'test', accuracy: 0.9 }] } })];
    renderApp({ api, key: OPERATOR_KEY, hash: '#/models' });
    const row = within(await screen.findByTestId('evaluation-spam-2-test'));
    expect(row.getByText('90.0%')).toBeTruthy();
    expect(row.getAllByText('—')).toHaveLength(4); // examples, F1, recall, ECE
    expect(screen.queryByTestId('evaluation-spam-1-test')).toBeNull();
  });

  it('says so when no version records an evaluation', async () => {
    const api = new FakeAdminApi();
    api.models[0].versions = [version(1, { evaluation: null })];
    renderApp({ api, key: OPERATOR_KEY, hash: '#/models' });
    expect(await screen.findByText('No version of spam records an evaluation.')).toBeTruthy();
  });

  it('shows an operator no upload form, and says why', async () => {
    renderApp({ key: OPERATOR_KEY, hash: '#/models' });
    expect((await screen.findByTestId('upload-admin-only')).textContent).toMatch(/needs the admin role/);
    expect(screen.queryByRole('button', { name: 'Upload version' })).toBeNull();
    expect(screen.queryByLabelText(/Version files/)).toBeNull();
    // What an operator may do stays available.
    expect(await screen.findByRole('button', { name: 'Move label' })).toBeTruthy();
  });

  it('shows the server’s validation error next to the upload form, then registers a good upload', async () => {
    const user = userEvent.setup();
    const { api } = renderApp({ key: ADMIN_KEY, hash: '#/models' });
    await user.type(await screen.findByLabelText('Model name'), 'spam');
    await user.upload(screen.getByLabelText(/Version files/), [new File(['{}'], 'model.json'), new File([new Uint8Array(8)], 'group1-shard1of1.bin')]);
    await user.upload(screen.getByLabelText(/Tokenizer/), new File(['{}'], 'tokenizer.json'));
    await user.click(screen.getByRole('button', { name: 'Upload version' }));

    const form = screen.getByRole('button', { name: 'Upload version' }).closest('form') as HTMLFormElement;
    expect((await within(form).findByRole('alert')).textContent).toBe('servable.json is missing from the upload');
    const sent = api.callsTo('POST', '/models/spam/versions')[0].body as FormData;
    expect((sent.getAll('files') as File[]).map((f) => f.name)).toEqual(['model.json', 'group1-shard1of1.bin']);
    expect((sent.get('tokenizer') as File).name).toBe('tokenizer.json');

    await user.upload(screen.getByLabelText(/Version files/), [new File(['{}'], 'servable.json'), new File(['{}'], 'model.json')]);
    await user.click(screen.getByRole('button', { name: 'Upload version' }));
    expect((await within(form).findByRole('status')).textContent).toMatch(/Registered spam v4 \(START\)/);
    expect(within(form).queryByRole('alert')).toBeNull();
    expect(await screen.findByTestId('version-row-spam-4')).toBeTruthy();
  });

  it('moves a label, and shows in place why a label cannot point at a version that is not AVAILABLE', async () => {
    const user = userEvent.setup();
    const { api } = renderApp({ key: OPERATOR_KEY, hash: '#/models' });
    const form = await screen.findByRole('form', { name: 'Move a label of spam' });
    await user.selectOptions(within(form).getByLabelText('Points at'), '3');
    await user.click(within(form).getByRole('button', { name: 'Move label' }));
    expect((await within(form).findByRole('alert')).textContent).toMatch(/not AVAILABLE/);
    expect(api.models[0].labels).toEqual({ stable: 1 });

    await user.selectOptions(within(form).getByLabelText('Points at'), '2');
    await user.click(within(form).getByRole('button', { name: 'Move label' }));
    expect((await within(form).findByRole('status')).textContent).toBe('stable → v2.');
    expect(api.callsTo('PUT', '/models/spam/labels').at(-1)?.body).toEqual({ labels: { stable: 2 } });
    await waitFor(() => expect(within(screen.getByTestId('version-row-spam-2')).getByText('stable')).toBeTruthy());
  });

  it('unloads only after confirmation, and loads at once', async () => {
    const user = userEvent.setup();
    const { api } = renderApp({ key: OPERATOR_KEY, hash: '#/models' });
    await user.click(await screen.findByRole('button', { name: 'Unload spam v2' }));
    const dialog = screen.getByRole('dialog');
    expect(dialog.textContent).toMatch(/Unload spam v2\?/);
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(api.callsTo('PUT', /pin$/)).toHaveLength(0);

    await user.click(screen.getByRole('button', { name: 'Unload spam v2' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Confirm' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(api.callsTo('PUT', '/models/spam/versions/2/pin')[0].body).toEqual({ pinned: false });
    expect(await screen.findByRole('button', { name: 'Load spam v2' })).toBeTruthy();

    await user.click(screen.getByRole('button', { name: 'Load spam v1' }));
    expect(await screen.findByRole('button', { name: 'Unload spam v1' })).toBeTruthy();
    expect(api.callsTo('PUT', '/models/spam/versions/1/pin')[0].body).toEqual({ pinned: true });
  });

  it('follows a version that is loading until it lands, without a reload', async () => {
    const { api } = renderApp({ key: OPERATOR_KEY, hash: '#/models' });
    const row = await screen.findByTestId('version-row-spam-3');
    expect(within(row).getByText('LOADING')).toBeTruthy();
    // The data plane finishes the load after the page has shown it.
    api.models[0].versions.find((v) => v.version === 3)!.state = 'AVAILABLE';
    await waitFor(() => expect(within(screen.getByTestId('version-row-spam-3')).getByText('AVAILABLE')).toBeTruthy(), { timeout: 3_000 });
  });

  it('says when there are no models', async () => {
    const api = new FakeAdminApi();
    api.models = [];
    renderApp({ api, key: ADMIN_KEY, hash: '#/models' });
    expect(screen.getByRole('status').textContent).toMatch(/Checking your session/);
    expect(await screen.findByText(/No models are registered yet/)).toBeTruthy();
  });

  it('shows a failed load with the server’s message, and retries', async () => {
    const user = userEvent.setup();
    const api = new FakeAdminApi();
    api.failNext('GET', /^\/models$/, 500, 'database is down', 'INTERNAL');
    renderApp({ api, key: ADMIN_KEY, hash: '#/models' });
    expect((await screen.findByRole('alert')).textContent).toMatch(/Could not load the models:.*database is down/);
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByTestId('version-row-spam-1')).toBeTruthy();
  });
});
