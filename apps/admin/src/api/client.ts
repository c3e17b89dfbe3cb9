import { ApiError } from './api-error';
import type { KeyStore } from './key-store';
import type {
  ApiKeyView,
  AuditPage,
  AuditQuery,
  CanaryRunInput,
  CanaryRunView,
  CatalogModelView,
  CreatedApiKey,
  MetricsQuery,
  MetricsView,
  ModelView,
  OverviewView,
  Role,
  RolloutInput,
  RolloutView,
  SessionView,
  VersionView,
} from './types';

export interface ApiClientOptions {
  keyStore: KeyStore;
  /** Same origin: the gateway serves the console, and Vite proxies it in development. */
  baseUrl?: string;
}

type Query = Record<string, string | number | undefined>;

interface RequestOptions {
  query?: Query;
  json?: unknown;
  form?: FormData;
  /** Use this key instead of the stored one (null: send none), to verify a key before keeping it. */
  key?: string | null;
  /** Another root than /admin/api: the inference API (/v1) on the same origin. */
  base?: string;
  headers?: Record<string, string>;
  /** Sees the response before its body is read, for headers such as timings. */
  onResponse?: (res: Response) => void;
}

/** A call of the inference API: its body, its response headers and the round trip as the browser saw it. */
export interface InferenceReply<T> {
  body: T;
  headers: Headers;
  roundTripMs: number;
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** The one typed client for /admin/api; every hook goes through it. */
export function createApiClient({ keyStore, baseUrl = '/admin/api' }: ApiClientOptions) {
  async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    const key = opts.key !== undefined ? opts.key : keyStore.get();
    if (key) headers['authorization'] = `Bearer ${key}`;
    let body: BodyInit | undefined;
    if (opts.form) {
      // No content-type: the browser sets multipart with its boundary.
      body = opts.form;
    } else if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    let res: Response;
    try {
      res = await fetch((opts.base ?? baseUrl) + path + queryString(opts.query), { method, headers, body });
    } catch (err) {
      throw new ApiError(`The gateway did not answer: ${(err as Error).message}`, 0, 'UNAVAILABLE');
    }
    opts.onResponse?.(res);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // A proxy's HTML error page, for instance; reported below by status.
    }
    if (!res.ok) {
      const e = parsed as { error?: unknown; code?: unknown } | undefined;
      const message = typeof e?.error === 'string' ? e.error : `HTTP ${res.status} ${res.statusText}`.trim();
      throw new ApiError(message, res.status, typeof e?.code === 'string' ? e.code : `HTTP_${res.status}`);
    }
    return parsed as T;
  }

  const m = (model: string) => `/models/${encodeURIComponent(model)}`;
  /** The gateway's root: /admin/api's parent. */
  const root = baseUrl.replace(/\/admin\/api$/, '');

  async function inference<T>(path: string, json: unknown, headers: Record<string, string>): Promise<InferenceReply<T>> {
    let responseHeaders = new Headers();
    const started = performance.now();
    const body = await request<T>('POST', path, { base: root, json, headers, onResponse: (res) => (responseHeaders = res.headers) });
    return { body, headers: responseHeaders, roundTripMs: performance.now() - started };
  }

  return {
    session: (key?: string | null) => request<SessionView>('GET', '/session', { key }),
    overview: () => request<OverviewView>('GET', '/overview'),
    models: () => request<ModelView[]>('GET', '/models'),
    model: (model: string) => request<ModelView>('GET', m(model)),
    registerVersion: (model: string, files: File[], tokenizer: File) => {
      const form = new FormData();
      for (const f of files) form.append('files', f, f.name);
      form.append('tokenizer', tokenizer, tokenizer.name);
      return request<VersionView>('POST', `${m(model)}/versions`, { form });
    },
    setLabels: (model: string, labels: Record<string, number | null>) =>
      request<ModelView>('PUT', `${m(model)}/labels`, { json: { labels } }),
    setPinned: (model: string, version: number, pinned: boolean) =>
      request<VersionView>('PUT', `${m(model)}/versions/${version}/pin`, { json: { pinned } }),
    rollout: (model: string) => request<{ rollout: RolloutView | null }>('GET', `${m(model)}/rollout`),
    setRollout: (model: string, input: RolloutInput) => request<RolloutView>('PUT', `${m(model)}/rollout`, { json: input }),
    clearRollout: (model: string) => request<void>('DELETE', `${m(model)}/rollout`),
    promote: (model: string) => request<RolloutView>('POST', `${m(model)}/rollout/promote`),
    rollback: (model: string) => request<RolloutView>('POST', `${m(model)}/rollout/rollback`),
    canaryRuns: (model: string) => request<CanaryRunView[]>('GET', `${m(model)}/canary-runs`),
    canaryRun: (model: string, id: number) => request<CanaryRunView>('GET', `${m(model)}/canary-runs/${id}`),
    startCanaryRun: (model: string, input: CanaryRunInput) => request<CanaryRunView>('POST', `${m(model)}/canary-runs`, { json: input }),
    abortCanaryRun: (model: string, id: number) => request<CanaryRunView>('POST', `${m(model)}/canary-runs/${id}/abort`),
    metrics: (q: MetricsQuery) => request<MetricsView>('GET', '/metrics', { query: { ...q } }),
    audit: (q: AuditQuery) => request<AuditPage>('GET', '/audit', { query: { ...q } }),
    apiKeys: () => request<ApiKeyView[]>('GET', '/api-keys'),
    createApiKey: (name: string, role: Role) => request<CreatedApiKey>('POST', '/api-keys', { json: { name, role } }),
    revokeApiKey: (id: number) => request<ApiKeyView>('DELETE', `/api-keys/${id}`),
    catalog: () => request<CatalogModelView[]>('GET', '/catalog'),
    /** POST to the inference API (/v1/...), e.g. a version's :classify or :tokenize. */
    inference,
  };
}

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}
