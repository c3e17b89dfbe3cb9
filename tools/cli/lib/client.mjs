/** A failure the user can act on: printed as one line, without a stack. */
export class ClientError extends Error {}

/** An admin API error, with the gateway's {"error", "code"} body. */
export class ApiError extends ClientError {
  constructor(status, body) {
    super(`${status} ${body?.code ?? ''}: ${body?.error ?? JSON.stringify(body)}`.replace(' :', ':'));
    this.status = status;
    this.body = body;
  }
}

/** A thin client of /admin/api (docs/admin-api.md): one method per call the CLI makes. */
export class AdminClient {
  constructor({ url, key }) {
    this.url = url.replace(/\/+$/, '');
    this.key = key;
  }

  async request(method, path, body) {
    const headers = {};
    if (this.key) headers.authorization = `Bearer ${this.key}`;
    let payload;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(`${this.url}/admin/api${path}`, { method, headers, body: payload });
    } catch (err) {
      throw new ClientError(`cannot reach ${this.url}: ${err.cause?.message ?? err.message}`);
    }
    const text = await res.text();
    let parsed;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = { error: text.slice(0, 200) };
    }
    if (!res.ok) throw new ApiError(res.status, parsed);
    return parsed;
  }

  session = () => this.request('GET', '/session');
  models = () => this.request('GET', '/models');
  model = (name) => this.request('GET', `/models/${encodeURIComponent(name)}`);
  upload = (name, form) => this.request('POST', `/models/${encodeURIComponent(name)}/versions`, form);
  setLabels = (name, labels) => this.request('PUT', `/models/${encodeURIComponent(name)}/labels`, { labels });
  setPinned = (name, version, pinned) => this.request('PUT', `/models/${encodeURIComponent(name)}/versions/${version}/pin`, { pinned });
  rollout = (name) => this.request('GET', `/models/${encodeURIComponent(name)}/rollout`);
  setRollout = (name, input) => this.request('PUT', `/models/${encodeURIComponent(name)}/rollout`, input);
  clearRollout = (name) => this.request('DELETE', `/models/${encodeURIComponent(name)}/rollout`);
  promote = (name) => this.request('POST', `/models/${encodeURIComponent(name)}/rollout/promote`);
  rollback = (name) => this.request('POST', `/models/${encodeURIComponent(name)}/rollout/rollback`);
  startCanary = (name, input) => this.request('POST', `/models/${encodeURIComponent(name)}/canary-runs`, input);
  canaryRuns = (name) => this.request('GET', `/models/${encodeURIComponent(name)}/canary-runs`);
  canaryRun = (name, id) => this.request('GET', `/models/${encodeURIComponent(name)}/canary-runs/${encodeURIComponent(id)}`);
  abortCanary = (name, id) => this.request('POST', `/models/${encodeURIComponent(name)}/canary-runs/${encodeURIComponent(id)}/abort`);
  keys = () => this.request('GET', '/api-keys');
  createKey = (name, role) => this.request('POST', '/api-keys', { name, role });
  revokeKey = (id) => this.request('DELETE', `/api-keys/${encodeURIComponent(id)}`);
}
