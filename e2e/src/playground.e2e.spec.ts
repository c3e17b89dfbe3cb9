/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the REST API */
import * as grpc from '@grpc/grpc-js';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcClients, unary } from './support/grpc-client';
import { chromiumPath, collectConsoleErrors, launchBrowser, screenshot } from './support/browser';
import { ADMIN_KEY, manifestOf, startPlatform, type Platform } from './support/platform';
import { waitFor } from '@servable/observability/testing';

/**
 * :tokenize against the real tokenizer, and the console's playground in Chromium with a
 * client key: texts through v1 and v2 side by side, tokens as chips, the view in the URL,
 * and the traffic counted as the console's. The page is saved for the README
 * (docs/screenshots/ with E2E_UPDATE_SCREENSHOTS=1).
 */
const browserPath = chromiumPath();
// In CI a missing browser is a broken setup, never a silent skip.
const skip = !browserPath && !process.env['CI'];

describe('tokenize and the playground against the running platform', () => {
  let platform: Platform;
  let clientKey: string;

  const call = async (path: string, body?: unknown, key = clientKey) => {
    const res = await fetch(`${platform.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
  };

  beforeAll(async () => {
    platform = await startPlatform();
    await waitFor('v1 and v2 AVAILABLE', async () => (await call('/admin/api/models/spam', undefined, ADMIN_KEY)).body?.versions?.every((v: any) => v.state === 'AVAILABLE'), 60_000, 200);
    const admin = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` };
    await fetch(`${platform.url}/admin/api/models/spam/labels`, { method: 'PUT', headers: admin, body: JSON.stringify({ labels: { stable: 1, candidate: 2 } }) });
    const created = await fetch(`${platform.url}/admin/api/api-keys`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'playground', role: 'client' }) });
    clientKey = ((await created.json()) as any).key;
  });

  afterAll(async () => {
    await platform?.close();
  });

  it('tokenizes with the version’s pinned tokenizer: [CLS]/[SEP], [UNK] and offsets that slice the text', async () => {
    const text = 'Héllo, FREE café 😀 offer!';
    const res = await call('/v1/models/spam/versions/1:tokenize', { texts: [text] });
    expect(res.status).toBe(200);
    const v1 = manifestOf(1);
    expect(res.body).toMatchObject({ model_version: '1', tokenizer: v1.tokenizer.hash, max_length: v1.max_length, add_special_tokens: true });
    const tokens = res.body.results[0].tokens as Array<{ id: number; token: string; start: number; end: number; special: boolean; unknown: boolean }>;
    expect(tokens[0]).toMatchObject({ token: '[CLS]', special: true });
    expect(tokens.at(-1)).toMatchObject({ token: '[SEP]', special: true });
    // The shipped tokenizer lowercases and strips accents, so a token is its source span normalised.
    const normalise = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
    for (const t of tokens.filter((t) => !t.special && !t.unknown)) expect(normalise(text.slice(t.start, t.end))).toBe(t.token.replace(/^##/, ''));
    const unknown = tokens.filter((t) => t.unknown);
    expect(unknown.map((t) => text.slice(t.start, t.end))).toEqual(['😀']);
    expect(res.body.results[0].truncated).toBe(false);

    // The ids are exactly what classify feeds the model: the tokenizer's Encode gives the same.
    const clients = grpcClients(platform.grpcUrl, platform.tokenizerUrl);
    try {
      const encoded = await unary(clients.tokenizer!, 'encode', { tokenizerHash: v1.tokenizer.hash, texts: [text], maxLength: v1.max_length });
      expect([...new Int32Array(Uint8Array.from(encoded.ids.values).buffer)]).toEqual(tokens.map((t) => t.id));
      // And gateway.v1 Tokenize over gRPC answers as REST does.
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${clientKey}`);
      const overGrpc = await unary(clients.gateway, 'tokenize', { modelSpec: { name: 'spam', version: 1 }, texts: [text] }, metadata);
      expect(overGrpc.texts[0].tokens.map((t: any) => [t.id, t.start, t.end])).toEqual(tokens.map((t) => [t.id, t.start, t.end]));
    } finally {
      clients.close();
    }

    const long = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    const cut = await call('/v1/models/spam:tokenize', { texts: [long], add_special_tokens: false });
    expect(cut.body.results[0].truncated).toBe(true);
    expect(cut.body.results[0].tokens).toHaveLength(cut.body.max_length);
    expect(cut.body.results[0].tokens.some((t: any) => t.special)).toBe(false);

    expect((await call('/v1/models/spam:tokenize', { texts: [] })).body.code).toBe('INVALID_ARGUMENT');
    expect((await call('/v1/models/spam:tokenize', { texts: ['x'.repeat(70_000)] })).status).toBe(400);
  });

  describe.skipIf(skip)('the playground in Chromium', () => {
    let browser: Browser;
    let page: Page;
    let consoleErrors: string[];
    const texts = ['WIN a FREE cruise, click now!!! 🚢', 'Can we move the review to 3pm?', 'free lunch for the team on friday'];
    const link = () => `${platform.url}/admin/#/playground/spam?${texts.map((t) => `text=${encodeURIComponent(t)}`).join('&')}`;

    beforeAll(async () => {
      browser = await launchBrowser();
      page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
      consoleErrors = collectConsoleErrors(page);
    });

    afterAll(async () => {
      await browser?.close();
    });

    it('compares v1 and v2 on the texts of a link, with a client key, tokens as chips', async () => {
      await page.goto(link());
      await page.getByLabel('API key').fill(clientKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByTestId('session-role').textContent()).toContain('client');
      for (let i = 0; i < texts.length; i++) {
        await expect.poll(() => page.getByTestId(`verdict-${i}`).textContent(), { timeout: 20_000 }).toMatch(/disagree|All 2 versions say (spam|ham)/);
      }
      const card = page.getByTestId('result-0-v1');
      expect(await card.textContent()).toMatch(/stable/);
      expect(await card.locator('.prediction').textContent()).toMatch(/spam|ham/);
      expect(await card.getByRole('list', { name: 'Tokens' }).locator('li').first().textContent()).toBe('[CLS]');
      expect(await card.locator('.token-unk').count()).toBeGreaterThan(0);
      expect(await page.getByTestId('result-0-v2').textContent()).toMatch(/candidate/);
      await screenshot(page, '11-playground');
      expect(consoleErrors).toEqual([]);
    });

    it('counts the playground’s requests as the console’s in the gateway metrics', async () => {
      const metrics = await (await fetch(`${platform.url}/metrics`)).text();
      expect(metrics).toMatch(/servable_gateway_requests_total\{[^}]*version="1"[^}]*code="OK"[^}]*source="console"[^}]*\} [1-9]/);
    });

    it('shows the same view from the same link in a fresh tab, and keeps a change of versions in the URL', async () => {
      const fresh = await browser.newPage({ viewport: { width: 1366, height: 900 } });
      try {
        await fresh.goto(`${platform.url}/admin/`);
        await fresh.getByLabel('API key').fill(clientKey);
        await fresh.getByRole('button', { name: 'Sign in' }).click();
        await fresh.goto(link());
        await expect.poll(() => fresh.getByTestId('verdict-0').textContent(), { timeout: 20_000 }).toBe(await page.getByTestId('verdict-0').textContent());
        await fresh.getByRole('checkbox', { name: /^v2/ }).uncheck();
        await expect.poll(() => new URL(fresh.url()).hash).toMatch(/&v=1$/);
        await expect.poll(() => fresh.getByTestId('result-0-v2').count()).toBe(0);
      } finally {
        await fresh.close();
      }
    });
  });
});
