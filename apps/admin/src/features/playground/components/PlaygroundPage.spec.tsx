import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { FakeAdminApi } from '../../../test/fake-admin-api';
import { version } from '../../../test/fixtures';
import { CLIENT_KEY, renderApp } from '../../../test/render-app';

const playground = (query: string) => `#/playground/spam?${query}`;

describe('playground', () => {
  it('runs the texts in the URL through every AVAILABLE version with the client key, and says where they disagree', async () => {
    const { api } = renderApp({ key: CLIENT_KEY, hash: playground('text=free+lunch&text=free+money') });
    const first = await screen.findByTestId('verdict-0');
    expect(first.textContent).toBe('The versions disagree on this text: v1 says spam, v2 says ham.');
    expect((await screen.findByTestId('verdict-1')).textContent).toBe('All 2 versions say spam.');
    // v3 is LOADING: not run, and not offered.
    expect(screen.queryByTestId('result-0-v3')).toBeNull();
    expect((screen.getByRole('checkbox', { name: /^v3/ }) as HTMLInputElement).disabled).toBe(true);

    const v1 = screen.getByTestId('result-0-v1');
    expect(within(v1).getByText('spam', { selector: 'strong' })).toBeTruthy();
    expect(within(v1).getByText('0.920')).toBeTruthy();
    // Bars are as long as their scores, so 0.92 and 0.08 never draw alike.
    const bars = [...v1.querySelectorAll<HTMLElement>('.score-bar')].map((b) => b.style.width);
    expect(bars.sort()).toEqual(['0.64rem', '7.36rem']);
    expect(within(v1).getByText('stable')).toBeTruthy();
    expect(v1.textContent).toMatch(/3\.25 ms in the gateway/);
    expect(v1.textContent).toMatch(/tokenizer f1ad517b8eb1/);
    expect(within(screen.getByTestId('result-0-v2')).getByText('pinned')).toBeTruthy();
    expect(within(within(v1).getByRole('list', { name: 'Tokens' })).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['[CLS]', 'free', 'lunch', '[SEP]']);

    // Every call names its version, carries the client key and says it comes from the console.
    const calls = api.callsTo('POST', /^\/v1\/models\/spam\/versions\/\d:(classify|tokenize)$/);
    expect(calls.map((c) => c.path).sort()).toEqual([
      '/v1/models/spam/versions/1:classify',
      '/v1/models/spam/versions/1:tokenize',
      '/v1/models/spam/versions/2:classify',
      '/v1/models/spam/versions/2:tokenize',
    ]);
    expect(calls.every((c) => c.key === CLIENT_KEY)).toBe(true);
    expect(api.callsTo('GET', '/models')).toHaveLength(0);
  });

  it('marks [UNK] tokens with their source text, and a text cut at max_length', async () => {
    const api = new FakeAdminApi();
    api.models[0].versions[0] = version(1, { labels: ['stable'], maxLength: 5 });
    renderApp({ api, key: CLIENT_KEY, hash: playground(`text=${encodeURIComponent('free 😀 money now please')}&v=1`) });
    const card = await screen.findByTestId('result-0-v1');
    await within(card).findByText('[UNK]');
    expect(within(card).getByText('[UNK]').className).toMatch(/token-unk/);
    expect(card.textContent).toMatch(/1 unknown \(“😀”\)/);
    expect(within(card).getByLabelText('truncated here')).toBeTruthy();
    expect(card.textContent).toMatch(/Truncated at max_length 5/);
  });

  it('keeps texts and versions in the URL, so a link reproduces the view', async () => {
    const { api } = renderApp({ key: CLIENT_KEY, hash: '#/playground' });
    const box = await screen.findByLabelText('Texts, one per line');
    fireEvent.change(box, { target: { value: 'free lunch\n\nhello there' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(window.location.hash).toBe('#/playground/spam?text=free+lunch&text=hello+there'));
    await within(await screen.findByTestId('result-1-v2')).findByText('ham', { selector: 'strong' });
    // Run again with the same texts: the URL stays, the versions are asked again.
    const before = api.callsTo('POST', /:classify$/).length;
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(api.callsTo('POST', /:classify$/).length).toBe(before + 2));
    fireEvent.click(screen.getByRole('checkbox', { name: /^v2/ }));
    await waitFor(() => expect(window.location.hash).toBe('#/playground/spam?text=free+lunch&text=hello+there&v=1'));
    await waitFor(() => expect(screen.queryByTestId('result-0-v2')).toBeNull());
    expect(screen.getByTestId('result-0-v1')).toBeTruthy();
    expect(screen.queryByTestId('verdict-0')).toBeNull();
  });

  it('says a version’s error once, not in each of its cards', async () => {
    const api = new FakeAdminApi();
    api.failNext('POST', /versions\/2:classify$/, 503, 'inference is unreachable', 'UNAVAILABLE');
    renderApp({ api, key: CLIENT_KEY, hash: playground('text=hi&text=free+lunch') });
    expect((await screen.findByRole('alert')).textContent).toBe('v2 did not answer: inference is unreachableRetry');
    expect(await within(screen.getByTestId('result-0-v1')).findByText('ham', { selector: 'strong' })).toBeTruthy();
    expect(screen.getAllByRole('alert')).toHaveLength(1);
    for (const i of [0, 1]) expect(screen.getByTestId(`result-${i}-v2`).textContent).toMatch(/No answer: see the error above\./);

    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    await within(screen.getByTestId('result-1-v2')).findByText('ham', { selector: 'strong' });
    expect(screen.queryByRole('alert')).toBeNull();
    expect(api.callsTo('POST', '/v1/models/spam/versions/1:classify')).toHaveLength(1);
  });

  it('says one error once when every version fails alike, as with a gateway that is down', async () => {
    const api = new FakeAdminApi();
    for (const v of [1, 2]) api.failNext('POST', new RegExp(`versions/${v}:classify$`), 502, 'the gateway is down', 'UNAVAILABLE');
    renderApp({ api, key: CLIENT_KEY, hash: playground('text=a&text=b&text=c') });
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('v1 and v2 did not answer: the gateway is downRetry'));
    expect(screen.getAllByText(/the gateway is down/)).toHaveLength(1);
  });

  it('lists each version’s error once when they differ', async () => {
    const api = new FakeAdminApi();
    api.failNext('POST', /versions\/1:classify$/, 503, 'inference is unreachable', 'UNAVAILABLE');
    api.failNext('POST', /versions\/2:classify$/, 429, 'too many requests', 'RESOURCE_EXHAUSTED');
    renderApp({ api, key: CLIENT_KEY, hash: playground('text=a&text=b') });
    await waitFor(() => expect(within(screen.getByRole('alert')).getAllByRole('listitem')).toHaveLength(2));
    expect(within(screen.getByRole('alert')).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['v1: inference is unreachable', 'v2: too many requests']);
    expect(screen.getAllByText(/inference is unreachable/)).toHaveLength(1);
    expect(screen.getAllByText(/too many requests/)).toHaveLength(1);
  });
});
