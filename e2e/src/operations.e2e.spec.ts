/* eslint-disable @typescript-eslint/no-explicit-any -- OTLP/JSON and admin API bodies */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { waitFor } from '@servable/observability/testing';
import { ROOT, modelVersions, startPlatform, type AppName, type Platform } from './support/platform';

const PROMETHEUS_DIR = join(ROOT, 'deploy/prometheus');
const DASHBOARD = join(ROOT, 'deploy/grafana/servable-dashboard.json');
const SPAMMY = 'Congratulations! You have WON a FREE cruise. Click here now to claim your prize!!!';

/** promtool from Debian's `prometheus` package; CI must have it, a laptop may not. */
function promtool(): string | undefined {
  const found = spawnSync('promtool', ['--version']).status === 0;
  if (!found && process.env['CI'] === 'true') throw new Error('promtool is missing: apt-get install prometheus (CI runs the alert rule tests)');
  return found ? 'promtool' : undefined;
}

describe('alert rules (promtool)', () => {
  const tool = promtool();

  it.skipIf(!tool)('are valid and pass their unit tests', () => {
    const check = spawnSync(tool!, ['check', 'rules', join(PROMETHEUS_DIR, 'alerts.yml')], { encoding: 'utf8' });
    expect(check.stdout + check.stderr).toContain('SUCCESS');
    expect(check.status).toBe(0);
    const test = spawnSync(tool!, ['test', 'rules', join(PROMETHEUS_DIR, 'alerts.test.yml')], { encoding: 'utf8' });
    expect(test.status, test.stdout + test.stderr).toBe(0);
    const config = spawnSync(tool!, ['check', 'config', join(PROMETHEUS_DIR, 'prometheus.yml')], { encoding: 'utf8' });
    expect(config.status, config.stdout + config.stderr).toBe(0);
  });

  it('give every alert a summary, a description and a runbook section in docs/operations.md', () => {
    const operations = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    const anchors = new Set([...operations.matchAll(/^#+ (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
    const alerts = alertRules();
    expect(alerts.length).toBeGreaterThanOrEqual(7);
    for (const alert of alerts) {
      expect(alert.annotations, alert.name).toMatch(/summary:/);
      expect(alert.annotations, alert.name).toMatch(/description:/);
      const runbook = /runbook_url: docs\/operations\.md#([\w-]+)/.exec(alert.annotations)?.[1];
      expect(runbook, `${alert.name} has a runbook_url`).toBeDefined();
      expect(anchors.has(runbook!), `docs/operations.md has a section #${runbook}`).toBe(true);
    }
  });

  it.skipIf(!tool)('dashboard expressions are valid PromQL', () => {
    // promtool parses rule expressions: the panels' queries go through it as recording rules.
    const rules = dashboardExpressions().map((expr, i) => `      - record: servable:dashboard_panel_${i}\n        expr: ${JSON.stringify(grafanaToPromql(expr))}`);
    const dir = mkdtempSync(join(tmpdir(), 'servable-dashboard-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'dashboard-rules.yml');
    writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
    const check = spawnSync(tool!, ['check', 'rules', file], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });
});

describe('operations against the real services: metrics, dashboard, alerts, traces', () => {
  const receiver = new OtlpReceiver();
  let platform: Platform;
  const scrapes = {} as Record<AppName, string>;
  // The caller's trace: the platform must continue it, not start its own.
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpanId = '00f067aa0ba902b7';

  beforeAll(async () => {
    const endpoint = await receiver.start();
    platform = await startPlatform(
      { SERVABLE_AUTH: 'off' },
      { common: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '200' } },
    );
    const [stable, shadow] = [modelVersions().at(-1)!, modelVersions()[0]];
    await waitFor('every version AVAILABLE', async () => {
      const model = (await (await fetch(`${platform.url}/admin/api/models/spam`)).json()) as any;
      return model.versions.every((v: any) => v.state === 'AVAILABLE');
    }, 60_000);
    // Every request mirrored to the oldest version, so shadow agreement has something to count.
    const rollout = await call('PUT', '/admin/api/models/spam/rollout', { stable, shadow: { version: shadow, share: 100 } });
    expect(rollout.status).toBe(200);
    for (let i = 0; i < 8; i++) expect((await classify([SPAMMY, `meeting at ${i}pm?`, SPAMMY])).status).toBe(200);
    expect((await classify(['x'], { traceparent: `00-${traceId}-${callerSpanId}-01` })).status).toBe(200);
    expect((await call('POST', '/v1/models/nobody-registered-this:classify', { texts: ['x'] })).status).toBe(404);
    await waitFor('shadow answers counted', async () => /servable_gateway_compared_rows_total\{[^}]*result="agree"[^}]*\} [1-9]/.test(await scrape('gateway')), 30_000);
    for (const app of ['gateway', 'tokenizer', 'inference'] as const) scrapes[app] = await scrape(app);
  });

  afterAll(async () => {
    await platform?.close();
    await receiver.stop();
  });

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${platform.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const classify = (texts: string[], headers: Record<string, string> = {}) => call('POST', '/v1/models/spam:classify', { texts }, headers);
  const scrape = async (app: AppName) => (await fetch(platform.metricsUrls[app])).text();

  it('names every metric servable_*, with no service label and no model a caller made up', () => {
    for (const [app, text] of Object.entries(scrapes)) {
      const ours = [...families(text).keys()].filter((name) => !/^(process|nodejs)_/.test(name));
      expect(ours.length, app).toBeGreaterThan(5);
      for (const name of ours) expect(name, `${app} exposes ${name}`).toMatch(/^servable_[a-z0-9_]+$/);
      expect(text, app).not.toMatch(/[{,]service="/);
      expect(text, app).not.toContain('nobody-registered-this');
    }
    expect(scrapes.gateway).toMatch(/^servable_gateway_requests_total\{model="_unknown_",version="",api="product",code="NOT_FOUND",source="api"\} 1$/m);
    expect(scrapes.inference).toMatch(/^servable_inference_worker_busy_seconds_total [0-9.e-]+$/m);
  });

  it('uses only metrics the services expose in every dashboard panel and alert rule', () => {
    const exposed = new Map<string, string>();
    for (const text of Object.values(scrapes)) for (const [name, type] of families(text)) exposed.set(name, type);
    const used = new Set([...dashboardExpressions(), ...alertRules().map((a) => a.expr)].flatMap(metricNames));
    expect(used.size).toBeGreaterThan(15);
    const missing = [...used].filter((name) => !isExposed(name, exposed));
    expect(missing, 'metrics used in deploy/ but exposed by no service').toEqual([]);
  });

  it('traces one request across gateway, tokenizer and inference, continuing the caller\'s trace', async () => {
    // Each service exports on its own schedule: wait for every span the assertions name, not just one per service.
    const expected = ['predict spam', 'tokenizer encode', 'inference predict', 'Encode', 'Predict', 'queue wait'];
    await waitFor('spans of the traced request from all three services', () => {
      const names = new Set(receiver.spans.filter((s) => s.traceId === traceId).map((s) => s.name));
      return expected.every((n) => names.has(n));
    }, 30_000);
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    const byName = (name: string) => spans.find((s) => s.name === name);
    const root = byName('predict spam')!;
    expect(root).toMatchObject({ service: 'servable-gateway', parentSpanId: callerSpanId, kind: 2 }); // SERVER
    const encodeClient = spans.find((s) => s.name === 'tokenizer encode')!;
    const predictClient = spans.find((s) => s.name === 'inference predict')!;
    expect(encodeClient.parentSpanId).toBe(root.spanId);
    expect(predictClient.parentSpanId).toBe(root.spanId);
    expect(byName('Encode')).toMatchObject({ service: 'servable-tokenizer', parentSpanId: encodeClient.spanId });
    const predict = byName('Predict')!;
    expect(predict).toMatchObject({ service: 'servable-inference', parentSpanId: predictClient.spanId });
    expect(byName('queue wait')).toMatchObject({ service: 'servable-inference', parentSpanId: predict.spanId });

    // The batch that ran the request is a trace of its own that links to the request's Predict span.
    await waitFor('the batch span', () => receiver.spans.some((s) => s.links.some((l) => l.spanId === predict.spanId)), 30_000);
    const batch = receiver.spans.find((s) => s.links.some((l) => l.spanId === predict.spanId))!;
    expect(batch).toMatchObject({ service: 'servable-inference', name: expect.stringMatching(/^batch spam\/\d+$/) });
    expect(batch.links).toContainEqual({ traceId, spanId: predict.spanId });
  });

  it('shows the tokenizer hop in every trace when concurrent requests share one Encode', async () => {
    // Texts nobody sent before (the gateway's near cache would skip the hop), sent at once so Encodes merge.
    const traces = Array.from({ length: 16 }, (_, i) => `${(0x5e0000 + i).toString(16).padStart(32, '0')}`);
    const answers = await Promise.all(traces.map((id, i) => classify([`concurrent trace ${i} ${Date.now()}`], { traceparent: `00-${id}-${callerSpanId}-01` })));
    expect(answers.map((a) => a.status)).toEqual(traces.map(() => 200));
    const hop = (id: string) => receiver.spans.find((s) => s.traceId === id && (s.name === 'tokenizer encode' || s.name === 'tokenizer encode (merged)'));
    await waitFor('a tokenizer span in every trace', () => traces.every((id) => hop(id) !== undefined), 30_000);
    // A merged request's span is linked from the call that served it, in another request's trace.
    for (const merged of traces.map(hop).filter((s) => s!.name === 'tokenizer encode (merged)')) {
      expect(receiver.spans.some((s) => s.name === 'tokenizer encode' && s.links.some((l) => l.spanId === merged!.spanId)), merged!.traceId).toBe(true);
    }
  });
});

// --- dashboard and rule files -------------------------------------------------------------

function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'));
  const exprs: string[] = [];
  const walk = (panels: any[]) => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? []) if (target.expr) exprs.push(target.expr);
      walk(panel.panels);
    }
  };
  walk(dashboard.panels);
  for (const variable of dashboard.templating?.list ?? []) {
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    const inner = /^label_values\((.+),\s*\w+\)$/.exec(query ?? '')?.[1];
    if (inner) exprs.push(inner);
  }
  return exprs;
}

/** Grafana's variables replaced by values Prometheus accepts. */
function grafanaToPromql(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval/g, '1m').replace(/\$\w+/g, '.*');
}

/** The alert rules of deploy/prometheus/alerts.yml: name, expression and the annotation block. */
function alertRules(): Array<{ name: string; expr: string; annotations: string }> {
  const text = readFileSync(join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8');
  return text
    .split(/^ {6}- alert: /m)
    .slice(1)
    .map((block) => ({
      name: block.split('\n')[0].trim(),
      expr: /expr: \|\n([\s\S]*?)\n {8}\w/.exec(block)?.[1] ?? '',
      annotations: block.slice(block.indexOf('annotations:')),
    }));
}

/** Metric names an expression reads (ours only: `up` and the like come from Prometheus). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(servable_[a-z0-9_]+)\b/g)].map((m) => m[1]);
}

/** `# TYPE` lines of an exposition: family name → type. */
function families(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
}

function isExposed(name: string, exposed: Map<string, string>): boolean {
  if (exposed.has(name)) return true;
  const histogram = /^(.+)_(bucket|sum|count)$/.exec(name);
  return histogram !== null && ['histogram', 'summary'].includes(exposed.get(histogram[1]) ?? '');
}

// --- an in-process OTLP/HTTP receiver (JSON) ------------------------------------------------

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  links: Array<{ traceId: string; spanId: string }>;
}

/** What an OpenTelemetry collector does with OTLP/HTTP JSON on /v1/traces, minus the collecting. */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
          res.writeHead(415).end();
          return;
        }
        this.accept(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private accept(body: any): void {
    for (const rs of body.resourceSpans ?? []) {
      const service = rs.resource?.attributes?.find((a: any) => a.key === 'service.name')?.value?.stringValue ?? '';
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            service,
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId || undefined,
            name: s.name,
            kind: s.kind,
            links: (s.links ?? []).map((l: any) => ({ traceId: l.traceId, spanId: l.spanId })),
          });
        }
      }
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
