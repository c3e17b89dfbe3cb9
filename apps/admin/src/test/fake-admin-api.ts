import type { ApiKeyView, AuditEventView, CanaryRunInput, CanaryRunView, MetricSeries, ModelView, Role, RolloutInput, RolloutView } from '../api/types';
import { hasRole } from '../api/types';
import { apiKey, auditEvents, metricSeries, spamModel, spamRollout, version } from './fixtures';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  key: string | null;
  body: unknown;
}

interface Override {
  method: string;
  path: RegExp;
  status: number;
  body: unknown;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * An in-memory /admin/api that follows docs/admin-api.md closely enough for the console's
 * tests: roles, the AVAILABLE rule for labels, keyset paging, multipart uploads. Tests use
 * its `fetch`, read `requests` and change its state directly.
 */
export class FakeAdminApi {
  auth: 'on' | 'off' = 'on';
  models: ModelView[] = [spamModel()];
  rollouts = new Map<string, RolloutView>([['spam', spamRollout()]]);
  keys: Array<ApiKeyView & { secret: string }> = [
    { ...apiKey(1, 'root', 'admin'), secret: 'svb_admin' },
    { ...apiKey(2, 'ops', 'operator'), secret: 'svb_operator' },
    { ...apiKey(3, 'app', 'client'), secret: 'svb_client' },
  ];
  audit: AuditEventView[] = auditEvents(3);
  series: MetricSeries[] = metricSeries([1, 2]);
  /** Canary runs, newest first. */
  canaryRuns: CanaryRunView[] = [];
  requests: RecordedRequest[] = [];
  private overrides: Override[] = [];

  /** The next matching request answers this instead (once). */
  failNext(method: string, path: RegExp, status: number, error: string, code: string): void {
    this.overrides.push({ method, path, status, body: { error, code } });
  }

  callsTo(method: string, path: string | RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)));
  }

  readonly fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input), 'http://console.test');
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = new Headers(init.headers);
    const key = headers.get('authorization')?.replace(/^Bearer /, '') ?? null;
    const path = url.pathname.replace(/^\/admin\/api/, '');
    const body = init.body instanceof FormData ? init.body : typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    this.requests.push({ method, path, query: url.searchParams, key, body });

    const override = this.overrides.find((o) => o.method === method && o.path.test(path));
    if (override) {
      this.overrides.splice(this.overrides.indexOf(override), 1);
      return json(override.status, override.body);
    }
    try {
      const answer = this.route(method, path, url.searchParams, key, body);
      // The gateway's timing header on inference answers, as the playground reads it.
      const timing: Record<string, string> = path.startsWith('/v1/') ? { 'x-total-time': '3.250' } : {};
      return answer === undefined ? new Response(null, { status: 204 }) : json(answer.status ?? 200, answer.body, timing);
    } catch (err) {
      if (err instanceof HttpError) return json(err.status, { error: err.message, code: err.code });
      throw err;
    }
  };

  private route(method: string, path: string, q: URLSearchParams, key: string | null, body: unknown): { status?: number; body: unknown } | undefined {
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const is = (m: string, pattern: string) => {
      const want = pattern.split('/').filter(Boolean);
      return m === method && want.length === parts.length && want.every((w, i) => w.startsWith(':') || w === parts[i]);
    };

    if (is('GET', '/session')) {
      // Public, like the gateway's: without a key it answers 200 with no role while auth is on.
      if (this.auth === 'on' && !key) return { body: { auth: 'on', role: null, key: null } };
      const caller = this.authorize(key, 'client');
      return { body: { auth: this.auth, role: caller.role, key: caller.key } };
    }
    if (is('GET', '/catalog')) {
      this.authorize(key, 'client');
      return {
        body: this.models.map((m) => ({
          name: m.name,
          versions: m.versions.map(({ version, state, labels, pinned, tokenizerHash, maxLength, classLabels }) => ({ version, state, labels, pinned, tokenizerHash, maxLength, classLabels })),
        })),
      };
    }
    const inference = /^\/v1\/models\/([^/]+)\/versions\/(\d+):(classify|tokenize)$/.exec(path);
    if (inference && method === 'POST') {
      this.authorize(key, 'client');
      return { body: this.infer(decodeURIComponent(inference[1]), Number(inference[2]), inference[3], (body as { texts: string[] }).texts) };
    }
    if (is('GET', '/overview')) {
      this.authorize(key, 'client');
      return {
        body: {
          services: [
            { name: 'gateway', status: 'SERVING' },
            { name: 'tokenizer', status: 'SERVING' },
            { name: 'inference', status: 'SERVING', backend: 'wasm' },
          ],
          models: this.models.map((m) => ({
            model: m.name,
            versions: m.versions.length,
            available: m.versions.filter((v) => v.state === 'AVAILABLE').length,
            requestsPerSecond: 4.2,
            errorRate: 0.005,
            p99Ms: 18.4,
          })),
          from: '2026-01-01T11:00:00.000Z',
          to: '2026-01-01T12:00:00.000Z',
        },
      };
    }
    if (is('GET', '/models')) {
      this.authorize(key, 'operator');
      return { body: this.models };
    }
    if (is('GET', '/models/:model')) {
      this.authorize(key, 'operator');
      return { body: this.model(parts[1]) };
    }
    if (is('POST', '/models/:model/versions')) {
      this.authorize(key, 'admin');
      return { status: 201, body: this.register(parts[1], body as FormData) };
    }
    if (is('PUT', '/models/:model/labels')) {
      this.authorize(key, 'operator');
      return { body: this.setLabels(parts[1], (body as { labels: Record<string, number | null> }).labels) };
    }
    if (is('PUT', '/models/:model/versions/:version/pin')) {
      this.authorize(key, 'operator');
      const v = this.version(parts[1], Number(parts[3]));
      v.pinned = (body as { pinned: boolean }).pinned;
      return { body: v };
    }
    if (is('GET', '/models/:model/rollout')) {
      this.authorize(key, 'operator');
      this.model(parts[1]);
      return { body: { rollout: this.rollouts.get(parts[1]) ?? null } };
    }
    if (is('PUT', '/models/:model/rollout')) {
      this.authorize(key, 'operator');
      this.refuseWhileRunning(parts[1]);
      return { body: this.setRollout(parts[1], body as RolloutInput) };
    }
    if (is('DELETE', '/models/:model/rollout')) {
      this.authorize(key, 'operator');
      this.refuseWhileRunning(parts[1]);
      this.rollouts.delete(parts[1]);
      return undefined;
    }
    if (is('POST', '/models/:model/rollout/promote') || is('POST', '/models/:model/rollout/rollback')) {
      this.authorize(key, 'operator');
      this.refuseWhileRunning(parts[1]);
      const r = this.rollouts.get(parts[1]);
      if (!r?.canary) throw new HttpError(409, 'FAILED_PRECONDITION', `${parts[1]} has no canary`);
      if (parts[3] === 'promote') this.setLabels(parts[1], { stable: r.canary });
      const next: RolloutView = { ...r, canary: undefined, canaryWeight: 0, stableVersion: null, updatedAt: new Date().toISOString() };
      delete next.canary;
      this.rollouts.set(parts[1], next);
      return { body: next };
    }
    if (is('GET', '/models/:model/canary-runs')) {
      this.authorize(key, 'operator');
      this.model(parts[1]);
      return { body: this.canaryRuns.filter((r) => r.model === parts[1]) };
    }
    if (is('POST', '/models/:model/canary-runs')) {
      const caller = this.authorize(key, 'operator');
      const model = this.model(parts[1]);
      const input = body as CanaryRunInput;
      if (this.canaryRuns.some((r) => r.model === model.name && r.state === 'RUNNING')) throw new HttpError(409, 'FAILED_PRECONDITION', 'a run is RUNNING');
      const run: CanaryRunView = {
        id: this.canaryRuns.length + 1,
        model: model.name,
        stable: model.labels['stable'],
        canary: input.canary,
        state: 'RUNNING',
        stepIndex: 0,
        weight: input.steps[0],
        steps: input.steps,
        stepSeconds: input.stepSeconds,
        gates: input.gates,
        sticky: input.sticky ?? true,
        mirrorShare: input.mirrorShare ?? 50,
        maxExtensions: input.maxExtensions ?? 3,
        stepEndsAt: new Date(Date.now() + input.stepSeconds * 1000).toISOString(),
        startedAt: new Date().toISOString(),
        startedBy: caller.key?.name ?? 'anonymous',
        checks: [],
      };
      this.canaryRuns.unshift(run);
      return { status: 201, body: run };
    }
    if (is('POST', '/models/:model/canary-runs/:id/abort')) {
      this.authorize(key, 'operator');
      const run = this.canaryRuns.find((r) => r.model === parts[1] && r.id === Number(parts[3]));
      if (!run) throw new HttpError(404, 'NOT_FOUND', 'no such run');
      if (run.state !== 'RUNNING') throw new HttpError(409, 'FAILED_PRECONDITION', `run ${run.id} is ${run.state}`);
      Object.assign(run, { state: 'ABORTED', weight: 0, stepEndsAt: undefined, finishedAt: new Date().toISOString(), reason: 'aborted by ops' });
      return { body: run };
    }
    if (is('GET', '/metrics')) {
      this.authorize(key, 'operator');
      const model = q.get('model');
      return {
        body: {
          from: new Date(Number(q.get('from'))).toISOString(),
          to: new Date(Number(q.get('to'))).toISOString(),
          step: Number(q.get('step') ?? 30),
          series: this.series.filter((s) => !model || s.model === model),
        },
      };
    }
    if (is('GET', '/audit')) {
      this.authorize(key, 'operator');
      return { body: this.auditPage(q) };
    }
    if (is('GET', '/api-keys')) {
      this.authorize(key, 'admin');
      return { body: this.keys.map(({ secret: _, ...k }) => k) };
    }
    if (is('POST', '/api-keys')) {
      const caller = this.authorize(key, 'admin');
      const { name, role } = body as { name: string; role: Role };
      const created = { ...apiKey(this.keys.length + 1, name, role), createdBy: caller.key?.name ?? 'anonymous', secret: `svb_new_${name}` };
      this.keys.push(created);
      const { secret, ...view } = created;
      return { status: 201, body: { key: secret, apiKey: view } };
    }
    if (is('DELETE', '/api-keys/:id')) {
      this.authorize(key, 'admin');
      const k = this.keys.find((x) => x.id === Number(parts[1]));
      if (!k) throw new HttpError(404, 'NOT_FOUND', `no API key ${parts[1]}`);
      k.revokedAt = new Date().toISOString();
      const { secret: _, ...view } = k;
      return { body: view };
    }
    throw new HttpError(404, 'NOT_FOUND', `no route ${method} ${path}`);
  }

  /**
   * The playground's calls. Version 1 calls a text spam when it says "free", version 2
   * only when it also says "money", so "free lunch" is where they disagree. Words
   * outside ASCII are [UNK]; a version's maxLength cuts the tokens as the real one does.
   */
  private infer(model: string, v: number, verb: string, texts: string[]): unknown {
    const found = this.version(model, v);
    if (found.state !== 'AVAILABLE') throw new HttpError(409, 'FAILED_PRECONDITION', `version ${v} is ${found.state}`);
    if (!Array.isArray(texts) || texts.length === 0) throw new HttpError(400, 'INVALID_ARGUMENT', 'no inputs: send at least one text or row of ids');
    const common = { model_version: String(v), tokenizer: found.tokenizerHash };
    if (verb === 'classify') {
      const spam = (t: string) => /free/i.test(t) && (v === 1 || /money/i.test(t));
      return {
        ...common,
        predictions: texts.map((t) => (spam(t) ? { label: 'spam', scores: { ham: 0.08, spam: 0.92 }, truncated: false } : { label: 'ham', scores: { ham: 0.87, spam: 0.13 }, truncated: false })),
      };
    }
    const results = texts.map((t) => {
      const words = [...t.matchAll(/\S+/g)].map((m) => {
        const unknown = /[^\p{ASCII}]/u.test(m[0]);
        return { id: unknown ? 1 : 10 + m[0].length, token: unknown ? '[UNK]' : m[0].toLowerCase(), start: m.index, end: m.index + m[0].length, special: false, unknown };
      });
      const kept = words.slice(0, found.maxLength - 2);
      const special = (id: number, token: string) => ({ id, token, start: 0, end: 0, special: true, unknown: false });
      return { tokens: [special(2, '[CLS]'), ...kept, special(3, '[SEP]')], truncated: kept.length < words.length };
    });
    return { ...common, results, max_length: found.maxLength, add_special_tokens: true };
  }

  private authorize(key: string | null, needed: Role): { role: Role; key: ApiKeyView | null } {
    if (this.auth === 'off') return { role: 'admin', key: null };
    const found = this.keys.find((k) => k.secret === key && k.revokedAt === null);
    if (!found) throw new HttpError(401, 'UNAUTHENTICATED', key ? 'unknown or revoked API key' : 'an API key is required');
    if (!hasRole(found.role, needed)) throw new HttpError(403, 'PERMISSION_DENIED', `needs the ${needed} role`);
    const { secret: _, ...view } = found;
    return { role: found.role, key: view };
  }

  private model(name: string): ModelView {
    const m = this.models.find((x) => x.name === name);
    if (!m) throw new HttpError(404, 'NOT_FOUND', `no model ${name}`);
    return m;
  }

  private version(model: string, v: number) {
    const found = this.model(model).versions.find((x) => x.version === v);
    if (!found) throw new HttpError(404, 'NOT_FOUND', `no version ${model}/${v}`);
    return found;
  }

  private setLabels(model: string, labels: Record<string, number | null>): ModelView {
    const m = this.model(model);
    for (const v of Object.values(labels)) {
      if (v !== null && this.version(model, v).state !== 'AVAILABLE') {
        throw new HttpError(409, 'FAILED_PRECONDITION', `${model} v${v} is not AVAILABLE; a label can only point at an AVAILABLE version`);
      }
    }
    for (const [label, v] of Object.entries(labels)) {
      if (v === null) delete m.labels[label];
      else m.labels[label] = v;
    }
    for (const ver of m.versions) ver.labels = Object.entries(m.labels).filter(([, n]) => n === ver.version).map(([l]) => l);
    return m;
  }

  /** A RUNNING canary run owns the rollout: the gateway answers 409 to anything else that moves it. */
  private refuseWhileRunning(model: string): void {
    const run = this.canaryRuns.find((r) => r.model === model && r.state === 'RUNNING');
    if (run) throw new HttpError(409, 'FAILED_PRECONDITION', `canary run ${run.id} drives the rollout of "${model}"; abort it (POST .../canary-runs/${run.id}/abort) first`);
  }

  private setRollout(model: string, input: RolloutInput): RolloutView {
    this.model(model);
    for (const v of [input.stable, input.canary, input.shadow?.version, ...(input.cohortRules ?? []).map((r) => r.version)]) {
      if (v !== undefined && this.version(model, v).state !== 'AVAILABLE') throw new HttpError(409, 'FAILED_PRECONDITION', `${model} v${v} is not AVAILABLE`);
    }
    const view: RolloutView = {
      model,
      stableVersion: input.stable ?? null,
      canaryWeight: input.canaryWeight ?? 0,
      cohortRules: input.cohortRules ?? [],
      sticky: input.sticky ?? true,
      updatedAt: new Date(Date.now() + this.requests.length).toISOString(),
    };
    if (input.canary !== undefined) view.canary = input.canary;
    if (input.shadow) view.shadow = input.shadow;
    this.rollouts.set(model, view);
    return view;
  }

  private register(model: string, form: FormData) {
    const files = form.getAll('files') as File[];
    const tokenizer = form.get('tokenizer');
    if (!files.some((f) => f.name === 'servable.json')) throw new HttpError(400, 'INVALID_ARGUMENT', 'servable.json is missing from the upload');
    if (!(tokenizer instanceof File)) throw new HttpError(400, 'INVALID_ARGUMENT', 'tokenizer.json is missing from the upload');
    const m = this.models.find((x) => x.name === model) ?? { name: model, labels: {}, versions: [] };
    if (!this.models.includes(m)) this.models.push(m);
    const next = version(Math.max(0, ...m.versions.map((v) => v.version)) + 1, { model, state: 'START', pinned: true, source: 'upload' });
    m.versions.push(next);
    return next;
  }

  private auditPage(q: URLSearchParams) {
    const limit = Number(q.get('limit') ?? 50);
    const beforeId = q.get('beforeId') ? Number(q.get('beforeId')) : Infinity;
    const matching = [...this.audit]
      .sort((a, b) => b.id - a.id)
      .filter((e) => e.id < beforeId)
      .filter((e) => !q.get('actor') || e.actor === q.get('actor'))
      .filter((e) => !q.get('action') || e.action === q.get('action'))
      .filter((e) => !q.get('target') || e.target === q.get('target'));
    const events = matching.slice(0, limit);
    return matching.length > limit ? { events, nextBeforeId: events[events.length - 1].id } : { events };
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}
