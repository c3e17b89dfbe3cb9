/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the admin API */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, collectConsoleErrors, launchBrowser, screenshot } from './support/browser';
import { ADMIN_KEY, MODELS, startPlatform, type Platform } from './support/platform';
import { waitFor } from '@servable/observability/testing';

/**
 * The admin console in a real browser (Debian Chromium through playwright-core) against
 * the real gateway, tokenizer and inference: sign in, see both versions, set a 20 % canary
 * and find it in the audit log, send traffic, watch the charts fill for both versions,
 * roll back. Each page is saved for the README (docs/screenshots/ with E2E_UPDATE_SCREENSHOTS=1).
 */
const browserPath = chromiumPath();
// In CI a missing browser is a broken setup, never a silent skip.
const skip = !browserPath && !process.env['CI'];

describe.skipIf(skip)('admin console in Chromium against the running platform', () => {
  let platform: Platform;
  let browser: Browser;
  let page: Page;
  let consoleErrors: string[];

  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${platform.url}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}`, ...(init.headers ?? {}) },
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as any, headers: res.headers };
  };
  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();

  beforeAll(async () => {
    platform = await startPlatform();
    await waitFor('v1 and v2 AVAILABLE', async () => (await api('/admin/api/models/spam')).body?.versions?.every((v: any) => v.state === 'AVAILABLE'), 60_000, 200);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    consoleErrors = collectConsoleErrors(page);
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.close();
  });

  it('signs in with an API key and shows the role and the platform health', async () => {
    await page.goto(`${platform.url}/admin/`);
    await page.getByLabel('API key').waitFor();
    await screenshot(page, '01-sign-in');
    await page.getByLabel('API key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('session-role').textContent()).toContain('admin');
    for (const service of ['gateway', 'tokenizer', 'inference']) {
      await expect.poll(() => page.getByTestId(`service-${service}`).textContent(), { timeout: 15_000 }).toMatch(/SERVING|Serving/i);
    }
    await expect.poll(() => page.getByTestId('service-inference').textContent()).toMatch(/wasm/i);
    await screenshot(page, '02-overview');
  });

  it('shows the spam model with v1 and v2, and moves the stable label to v1', async () => {
    await nav('Models');
    for (const v of [1, 2]) {
      const row = page.getByTestId(`version-row-spam-${v}`);
      await expect.poll(() => row.textContent(), { timeout: 15_000 }).toContain('AVAILABLE');
      expect(await row.getByRole('rowheader').textContent()).toContain(`v${v}`);
    }
    const labelForm = page.getByRole('form', { name: 'Move a label of spam' });
    await labelForm.getByLabel('Label', { exact: true }).fill('stable');
    await labelForm.getByLabel('Points at').selectOption('1');
    await labelForm.getByRole('button', { name: 'Move label' }).click();
    await expect.poll(() => page.getByTestId('version-row-spam-1').textContent()).toContain('stable');
    // servable.json's evaluation reaches the page per split, through the registry and the admin API.
    for (const v of [1, 2]) {
      const manifest = JSON.parse(readFileSync(join(MODELS, 'spam', String(v), 'servable.json'), 'utf8')) as { evaluation: { splits: Array<{ split: string; accuracy: number }> } };
      for (const { split, accuracy } of manifest.evaluation.splits) {
        expect(await page.getByTestId(`evaluation-spam-${v}-${split}`).textContent()).toContain(`${(accuracy * 100).toFixed(1)}%`);
      }
    }
    await screenshot(page, '03-models');
  });

  it('sets a 20% canary with a preview, and finds the change in the audit log', async () => {
    await nav('Rollout');
    await page.getByLabel('Canary version').selectOption('2');
    await page.getByLabel('Canary weight (%)').fill('20');
    // Also mirror half of stable's traffic to v2, so the shadow-agreement chart has data.
    await page.getByLabel('Shadow version').selectOption('2');
    await page.getByLabel('Shadow share (%)').fill('50');
    await expect.poll(() => page.getByTestId('rollout-diff').textContent()).toMatch(/20/);
    await screenshot(page, '04-rollout-preview');
    await page.getByRole('button', { name: 'Save rollout' }).click();
    await page.getByText('Saved the rollout of spam.').waitFor();
    await expect.poll(() => page.getByTestId('rollout-split').getByRole('img').first().getAttribute('aria-label')).toMatch(/canary v2 20%/);
    const stored = (await api('/admin/api/models/spam/rollout')).body.rollout;
    expect(stored).toMatchObject({ canary: 2, canaryWeight: 20, shadow: { version: 2, share: 50 } });

    await nav('Audit log');
    const table = page.getByRole('table', { name: 'Audit events' });
    await expect.poll(() => table.textContent(), { timeout: 10_000 }).toContain('rollout.set');
    expect(await table.textContent()).toContain('label.set');
    await screenshot(page, '05-audit-log');
  });

  it('fills the metric charts for both versions once traffic flows', { timeout: 90_000 }, async () => {
    // The 20 % canary splits this traffic; both versions get some. Six waves ~4 s apart span
    // several 10 s buckets, so the charts draw lines, not single points.
    const texts = ['WIN a FREE cruise, click now!!!', 'Can we move the review to 3pm?'];
    const served: Record<string, number> = {};
    for (let batch = 0; batch < 6; batch++) {
      if (batch > 0) await new Promise((r) => setTimeout(r, 4_000));
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          api('/v1/models/spam:classify', { method: 'POST', body: JSON.stringify({ texts: [texts[i % 2]] }), headers: { 'x-servable-route-key': `user-${batch}-${i}` } }),
        ),
      );
      for (const a of answers) {
        expect(a.status).toBe(200);
        served[a.body.model_version] = (served[a.body.model_version] ?? 0) + 1;
      }
    }
    expect(served['1']).toBeGreaterThan(0);
    expect(served['2']).toBeGreaterThan(0);

    await nav('Metrics');
    await page.getByRole('radio', { name: '15m' }).check();
    const chart = page.getByTestId('chart-requestsPerSecond');
    await expect
      .poll(async () => (await chart.getByRole('list').textContent()) ?? '', { timeout: 30_000 })
      .toMatch(/v1[\s\S]*v2/);
    await expect.poll(() => chart.locator('.recharts-line path.recharts-curve').count(), { timeout: 30_000 }).toBe(2);
    await expect.poll(() => page.getByTestId('chart-p99Ms').locator('.recharts-line path.recharts-curve').count()).toBe(2);
    await expect.poll(() => page.getByTestId('chart-shadowAgreement').locator('.recharts-line path.recharts-curve').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await screenshot(page, '06-metrics');
  });

  it('rolls back after a confirmation', async () => {
    await nav('Rollout');
    await page.getByRole('button', { name: 'Roll back' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await screenshot(page, '07-rollback-confirmation');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Rolled back: the canary is cleared.').waitFor();
    const stored = (await api('/admin/api/models/spam/rollout')).body.rollout;
    expect(stored.canary).toBeUndefined();
    expect(stored.canaryWeight).toBe(0);
    await expect.poll(() => page.getByTestId('rollout-history').textContent()).toContain('rollout.rollback');
    await screenshot(page, '08-rollout-rolled-back');
    // Every request now goes to stable (v1).
    const after = await api('/v1/models/spam:classify', { method: 'POST', body: JSON.stringify({ texts: ['Can we move the review to 3pm?'] }) });
    expect(after.body.model_version).toBe('1');
  });

  it('creates an API key shown once, and stays usable at tablet width', async () => {
    await nav('API keys');
    await page.getByLabel('Name').fill('reporting');
    await page.getByLabel('Role').selectOption('client');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await page.getByTestId('new-api-key-value').textContent())?.trim() ?? '';
    expect(key).toMatch(/^svb_/);
    await screenshot(page, '09-api-keys');
    expect((await fetch(`${platform.url}/v1/models/spam:classify`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: '{"texts":["Can we move the review to 3pm?"]}' })).status).toBe(200);

    await page.setViewportSize({ width: 768, height: 1024 });
    await nav('Overview');
    await page.getByTestId('service-gateway').waitFor();
    await screenshot(page, '10-overview-tablet');
  });

  it('left no errors in the browser console', () => {
    expect(consoleErrors).toEqual([]);
  });
});
