/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the admin API under test */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { copyRepository } from '@servable/persistence/testing';
import { waitFor } from '@servable/observability/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, collectConsoleErrors, launchBrowser, screenshot } from './support/browser';
import { ADMIN_KEY, startPlatform, type Platform } from './support/platform';
import { requirePostgres, skipWithoutPostgres } from './support/postgres';

/** Texts the load sends; both labels occur, so a swap of the labels changes answers. */
const TEXTS = [
  'Congratulations! You have WON a FREE cruise. Click here now to claim your prize, limited offer!!!',
  "Hi Tom, can we move tomorrow's meeting to 3pm? I will bring the quarterly numbers.",
  'URGENT: your account is suspended, verify your password at this link to avoid charges',
  'Thanks for dinner last night, the kids loved it. See you on Sunday?',
  'Get cheap meds online, no prescription needed, 90% off today only',
  'The build is green again; I merged the fix for the flaky test.',
];
const STEPS = [20, 50, 100];
const STEP_SECONDS = 4;
// The latency gate has its own unit tests: on two shared cores the p99s of two versions in a
// few-second window differ by 2-3x from scheduling alone, so here it only catches the absurd.
const GATES = { maxErrorRate: 0.02, maxP99Ratio: 5, minAgreement: 0.9, minRequests: 20, p99ToleranceMs: 100 };

// In CI a missing browser is a broken setup, never a silent skip.
const noBrowser = !chromiumPath() && !process.env['CI'];

interface Sent {
  at: number;
  status: number;
  version: string | undefined;
}

/**
 * Automated canary analysis across the real processes: a broken version (stable's weights
 * with its labels swapped) is rolled back under load by the agreement gate, and a good one
 * (a copy of stable) is promoted. Callers never see a failure either way.
 */
describe('canary runs end to end (tokenizer + inference + gateway processes)', () => {
  const repo = copyRepository();
  let platform: Platform;
  let browser: Browser | undefined;

  const call = async (method: string, path: string, body?: unknown, init: { key?: string; headers?: Record<string, string> } = {}) => {
    const res = await fetch(`${platform.url}${path}`, {
      method,
      headers: {
        ...(body === undefined || body instanceof FormData ? {} : { 'content-type': 'application/json' }),
        authorization: `Bearer ${init.key ?? ADMIN_KEY}`,
        ...init.headers,
      },
      body: body === undefined ? undefined : body instanceof FormData ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  };
  const model = async () => (await call('GET', '/admin/api/models/spam')).body;
  /** Uploads `from`'s files as version `as`, servable.json edited by `edit`. */
  const upload = async (from: number, as: number, edit: (manifest: any) => any = (m) => m) => {
    const dir = join(repo.root, 'spam', String(from));
    const form = new FormData();
    let hash = '';
    for (const name of readdirSync(dir)) {
      let bytes = readFileSync(join(dir, name));
      if (name === 'servable.json') {
        const manifest = JSON.parse(bytes.toString('utf8'));
        hash = manifest.tokenizer.hash;
        bytes = Buffer.from(JSON.stringify(edit({ ...manifest, version: as })));
      }
      form.append('files', new Blob([bytes]), name);
    }
    form.append('tokenizer', new Blob([readFileSync(join(repo.root, 'tokenizers', `${hash}.json`))]), 'tokenizer.json');
    const res = await call('POST', '/admin/api/models/spam/versions', form);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await waitFor(`v${as} AVAILABLE`, async () => (await model()).versions.find((v: any) => v.version === as)?.state === 'AVAILABLE', 60_000, 250);
  };

  /** Classify requests from `width` callers in a loop until stop(); every answer is kept. */
  const load = (width = 4, base?: string) => {
    const sent: Sent[] = [];
    let running = true;
    const workers = Array.from({ length: width }, async (_, w) => {
      for (let i = w; running; i += width) {
        const res = await fetch(`${base ?? platform.url}/v1/models/spam:classify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
          body: JSON.stringify({ texts: [TEXTS[i % TEXTS.length]] }),
        });
        const body: any = await res.json().catch(() => undefined);
        sent.push({ at: Date.now(), status: res.status, version: body?.model_version });
      }
    });
    return {
      sent,
      async stop() {
        running = false;
        await Promise.all(workers);
        return sent;
      },
    };
  };

  /** Starts a run under load and waits for it to finish; returns the run and what callers saw. */
  const canaryUnderLoad = async (canary: number) => {
    const traffic = load();
    await waitFor('load flowing', async () => traffic.sent.length >= 20, 30_000, 50);
    const started = await call('POST', '/admin/api/models/spam/canary-runs', { canary, steps: STEPS, stepSeconds: STEP_SECONDS, gates: GATES, mirrorShare: 100 });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect(started.body).toMatchObject({ state: 'RUNNING', canary, stable: 2, weight: STEPS[0], stepIndex: 0 });
    const id = started.body.id;
    let run: any;
    await waitFor(
      `run ${id} finished`,
      async () => {
        run = (await call('GET', `/admin/api/models/spam/canary-runs/${id}`)).body;
        return run.state !== 'RUNNING';
      },
      STEPS.length * STEP_SECONDS * 1000 * 3,
      100,
    );
    const finishedAt = Date.now();
    // A little more load after the verdict: it shows where traffic went.
    await new Promise((r) => setTimeout(r, 1_500));
    const sent = await traffic.stop();
    const during = sent.filter((s) => s.at >= Date.parse(run.startedAt) && s.at <= Date.parse(run.finishedAt));
    return { run, sent, during, after: sent.filter((s) => s.at > finishedAt + 500) };
  };

  beforeAll(async () => {
    platform = await startPlatform(
      { CANARY_TICK_MS: '200', METRICS_FLUSH_INTERVAL_MS: '250' },
      { common: { MODEL_REPOSITORY: repo.root }, env: { inference: { MODEL_VERSION_POLICY: 'none' } } },
    );
    await waitFor('v1 and v2 AVAILABLE', async () => (await model()).versions.every((v: any) => v.state === 'AVAILABLE'), 60_000, 250);
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.close();
    repo.remove();
  });

  it('points stable at the latest version on first import, and an upload takes no traffic by itself', async () => {
    expect((await model()).labels).toEqual({ stable: 2 });
    // Bad: v2's weights with the labels swapped, so it disagrees with stable on every text.
    await upload(2, 3, (m) => ({ ...m, labels: [...m.labels].reverse() }));
    expect((await model()).labels).toEqual({ stable: 2 });
    const traffic = load(2);
    await waitFor('40 answers', async () => traffic.sent.length >= 40, 30_000, 50);
    const sent = await traffic.stop();
    expect(new Set(sent.map((s) => s.version))).toEqual(new Set(['2']));
  });

  it('rolls a disagreeing canary back within steps × stepSeconds under load; callers see only 2xx', async () => {
    const { run, sent, during, after } = await canaryUnderLoad(3);
    expect(run.state, run.reason).toBe('ROLLED_BACK');
    const tookMs = Date.parse(run.finishedAt) - Date.parse(run.startedAt);
    expect(tookMs).toBeLessThanOrEqual(STEPS.length * STEP_SECONDS * 1000);
    const failing = run.checks.at(-1);
    expect(failing).toMatchObject({ passed: false, step: 0, weight: STEPS[0] });
    expect(failing.requests).toBeGreaterThanOrEqual(GATES.minRequests);
    expect(failing.agreement).toBeLessThan(GATES.minAgreement);
    expect(run.reason).toMatch(/^agreement /);
    // Every caller got an answer, during the run and after it.
    expect(sent.filter((s) => s.status !== 200)).toEqual([]);
    const servedByCanary = during.filter((s) => s.version === '3').length;
    expect(servedByCanary).toBeGreaterThan(0);
    // Traffic is back on stable.
    expect(after.length).toBeGreaterThan(0);
    expect(new Set(after.map((s) => s.version))).toEqual(new Set(['2']));
    expect((await model()).labels).toEqual({ stable: 2 });
    console.log(`bad canary: ROLLED_BACK after ${tookMs} ms (${run.checks.length} check(s)); it served ${servedByCanary} of ${during.length} requests; check: ${JSON.stringify(failing)}`);

    const audit = (await call('GET', '/admin/api/audit?action=canary.rollback&limit=5')).body.events;
    expect(audit[0]).toMatchObject({ actor: 'system', target: 'model:spam', after: { run: run.id, weight: 0, agreement: failing.agreement, requests: failing.requests } });
    const metrics = (await call('GET', '/metrics')).body as string;
    expect(metrics).toMatch(/servable_canary_run_state\{model="spam",canary="3",state="ROLLED_BACK"[^}]*\} 1\n/);
    expect(metrics).toMatch(/servable_canary_run_state\{model="spam",canary="3",state="RUNNING"[^}]*\} 0\n/);
    expect(metrics).toMatch(/servable_canary_weight_percent\{model="spam",canary="3"[^}]*\} 0\n/);
    // The counter deploy/prometheus/alerts.yml alerts on (ServableCanaryRolledBack).
    expect(metrics).toMatch(/servable_canary_rollbacks_total\{model="spam",version="3"[^}]*\} 1\n/);
  });

  it('promotes a canary that agrees with stable: the stable label moves to it', async () => {
    await upload(2, 4);
    const { run, sent, after } = await canaryUnderLoad(4);
    expect(run.state, `${run.reason} ${JSON.stringify(run.checks)}`).toBe('PROMOTED');
    expect(run.checks.map((c: any) => c.weight)).toEqual(STEPS);
    expect(run.checks.every((c: any) => c.passed)).toBe(true);
    expect(sent.filter((s) => s.status !== 200)).toEqual([]);
    expect((await model()).labels).toEqual({ stable: 4 });
    expect(new Set(after.map((s) => s.version))).toEqual(new Set(['4']));
    const actions = (await call('GET', `/admin/api/audit?target=model:spam&limit=50`)).body.events
      .filter((e: any) => e.action.startsWith('canary.') && (e.after?.run === run.id))
      .map((e: any) => e.action)
      .reverse();
    expect(actions).toEqual(['canary.start', 'canary.step', 'canary.step', 'canary.promote']);
    const history = (await call('GET', '/admin/api/models/spam/canary-runs')).body;
    expect(history.map((r: any) => [r.canary, r.state])).toEqual([[4, 'PROMOTED'], [3, 'ROLLED_BACK']]);
  });

  it('resumes a run after its gateway restarts, and promotes it', { timeout: 120_000 }, async () => {
    // v2 against stable v4 (a copy of v2): it agrees.
    let traffic = load(2);
    await waitFor('load flowing', async () => traffic.sent.length >= 10, 30_000, 50);
    // 8 s steps: the old gateway is gone (SIGTERM, at most 5 s) before the second step ends.
    const started = await call('POST', '/admin/api/models/spam/canary-runs', { canary: 2, steps: [50, 100], stepSeconds: 8, gates: GATES, mirrorShare: 100 });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = started.body.id;
    const get = async () => (await call('GET', `/admin/api/models/spam/canary-runs/${id}`)).body;
    await waitFor('the first step passed', async () => (await get()).stepIndex === 1, 30_000, 100);
    await traffic.stop();
    // The only gateway goes away mid-run; the run is a row, so the next one carries on.
    await platform.stop('gateway');
    const stoppedAt = Date.now();
    await platform.start('gateway');
    traffic = load(2);
    let run: any;
    try {
      await waitFor('run finished after the restart', async () => (run = await get()).state !== 'RUNNING', 60_000, 200);
    } finally {
      await traffic.stop();
    }
    expect(run.state, `${run.reason} ${JSON.stringify(run.checks)}`).toBe('PROMOTED');
    expect(run.checks.filter((c: any) => c.passed).map((c: any) => c.weight)).toEqual([50, 100]);
    // The verdict on the last step came from the restarted process.
    expect(Date.parse(run.checks.at(-1).at)).toBeGreaterThan(stoppedAt);
    expect((await model()).labels).toEqual({ stable: 2 });
  });

  it.skipIf(noBrowser)('Canary page in Chromium: start a run from the form, watch its checks live, abort it, read the history', { timeout: 120_000 }, async () => {
    browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    const errors = collectConsoleErrors(page);
    await page.goto(`${platform.url}/admin/`);
    await page.getByLabel('API key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Canary', exact: true }).click();
    await page.getByText('Stable is v2.').waitFor();
    const history = page.getByTestId('canary-history');
    await expect.poll(() => history.textContent()).toMatch(/v2 against v4 PROMOTED.*v4 against v2 PROMOTED.*v3 against v2 ROLLED_BACK/);

    const traffic = load(2);
    try {
      // v4 against stable v2 (its copy): it agrees, so it keeps passing until aborted.
      await page.getByLabel('Canary version').selectOption('4');
      // Four steps of 4 s: after the first check there are two more steps' time to abort in.
      await page.getByLabel('Steps (weight %)').fill('10, 20, 50, 100');
      await page.getByLabel('Step duration (s)').fill('4');
      await page.getByLabel('Min requests per step').fill('10');
      await page.getByLabel('Max p99 ratio').fill('5');
      await screenshot(page, 'canary-1-start-form');
      await page.getByRole('button', { name: 'Start run' }).click();
      const live = page.getByTestId('canary-live');
      await expect.poll(() => live.textContent(), { timeout: 10_000 }).toMatch(/v4 against stable v2.*RUNNING/);
      expect(await live.textContent()).toMatch(/No step has been judged yet/);
      // Live: the first check arrives by polling, without a reload.
      await expect.poll(() => live.getByTestId('canary-checks').textContent(), { timeout: 20_000 }).toMatch(/passed/);
      expect(await page.getByTestId('canary-status').textContent()).toMatch(/Step [23] of 4: the canary takes (20|50)%/);
      await screenshot(page, 'canary-2-live');
      await page.getByRole('button', { name: 'Abort run' }).click();
      await page.getByRole('dialog').waitFor();
      await screenshot(page, 'canary-3-abort-confirmation');
      await page.getByRole('button', { name: 'Confirm' }).click();
      await page.getByText(/Aborted run \d+: all traffic is back on stable v2\./).waitFor();
    } finally {
      await traffic.stop();
    }
    const runs = (await call('GET', '/admin/api/models/spam/canary-runs')).body;
    expect(runs[0]).toMatchObject({ canary: 4, stable: 2, state: 'ABORTED', weight: 0 });
    expect((await call('GET', '/admin/api/models/spam/rollout')).body.rollout).toMatchObject({ canaryWeight: 0 });
    // The form is back, and the history holds all three runs; the rolled-back one opens to its failing check.
    await page.getByRole('button', { name: 'Start run' }).waitFor();
    await expect.poll(() => history.textContent()).toMatch(/^Run \d+: v4 against v2 ABORTED/);
    const rolledBack = history.getByRole('listitem').filter({ hasText: /v3 against v2/ });
    await rolledBack.locator('summary').click();
    await expect.poll(() => rolledBack.getByTestId('canary-checks').textContent()).toMatch(/failed.*agreement/);
    await screenshot(page, 'canary-4-history');
    expect(errors).toEqual([]);
  });

  // PGlite is one process: several gateways need PostgreSQL (CI sets DATABASE_URL).
  it.skipIf(skipWithoutPostgres)('with two gateways, one drives the run and both route by it; the analysis counts both', { timeout: 120_000 }, async () => {
    requirePostgres('a second gateway process');
    const second = await platform.startGateway();
    const traffic = [load(2), load(2, second.url)];
    try {
      await waitFor('load on both gateways', async () => traffic.every((t) => t.sent.length >= 10), 30_000, 50);
      const started = await call('POST', '/admin/api/models/spam/canary-runs', { canary: 4, steps: [50, 100], stepSeconds: STEP_SECONDS, gates: GATES, mirrorShare: 100 });
      expect(started.status, JSON.stringify(started.body)).toBe(201);
      let run: any;
      await waitFor('run finished', async () => (run = (await call('GET', `/admin/api/models/spam/canary-runs/${started.body.id}`)).body).state !== 'RUNNING', 60_000, 100);
      const [first, other] = await Promise.all(traffic.map((t) => t.stop()));
      expect(run.state, `${run.reason} ${JSON.stringify(run.checks)}`).toBe('PROMOTED');
      // One driver: one check per step, and one audit event per decision.
      expect(run.checks.map((c: any) => c.weight)).toEqual([50, 100]);
      const events = (await call('GET', '/admin/api/audit?target=model:spam&limit=50')).body.events.filter((e: any) => e.after?.run === run.id);
      expect(events.map((e: any) => e.action).reverse()).toEqual(['canary.start', 'canary.step', 'canary.promote']);
      // Both gateways routed by it, and the first check counted both gateways' canary requests.
      const servedBy = (sent: Sent[]) => sent.filter((s) => s.version === '4' && s.at >= Date.parse(run.startedAt) && s.at <= Date.parse(run.checks[0].at) - 1_000).length;
      expect(servedBy(first)).toBeGreaterThan(0);
      expect(servedBy(other)).toBeGreaterThan(0);
      expect(run.checks[0].requests).toBeGreaterThanOrEqual(servedBy(first) + servedBy(other));
      expect([...first, ...other].filter((s) => s.status !== 200)).toEqual([]);
    } finally {
      await Promise.all(traffic.map((t) => t.stop()));
      await second.stop();
    }
  });
});
