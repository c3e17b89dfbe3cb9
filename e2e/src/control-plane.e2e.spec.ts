/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the admin API under test */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { copyRepository, uploadOf } from '@servable/persistence/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startPlatform, type Platform } from './support/platform';
import { requirePostgres, skipWithoutPostgres } from './support/postgres';
import { waitFor } from '@servable/observability/testing';

const TEXTS = [
  'Congratulations! You have WON a FREE cruise. Click here now to claim your prize, limited offer!!!',
  'Hi Tom, can we move tomorrow\'s meeting to 3pm? I will bring the quarterly numbers.',
];
const TOLERANCE = 4; // decimal digits: the same weights on the same backend

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

interface AuditRow {
  action: string;
  actor: string;
  target: string;
}

/**
 * The acceptance items of the control plane, against the real processes: inference
 * starts with MODEL_VERSION_POLICY=none, so every version it serves was loaded by the
 * gateway's reconcile loop; uploads go to a scratch copy of the model repository that
 * all three services share.
 */
describe('control plane end to end (tokenizer + inference + gateway processes)', () => {
  const repo = copyRepository();
  const startedAt = Date.now();
  let platform: Platform;
  let adminActor: string;
  const keys = { operator: '', client: '', operatorActor: '' };
  /** Every mutation this file made, in order: the audit log must hold exactly these. */
  const made: AuditRow[] = [];
  let auditFloor = 0;

  const call = async (method: string, path: string, options: { key?: string; body?: unknown; headers?: Record<string, string>; base?: string } = {}): Promise<Answer> => {
    const { key, body, headers = {}, base = platform.url } = options;
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(body === undefined || body instanceof FormData ? {} : { 'content-type': 'application/json' }), ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      body: body === undefined ? undefined : body instanceof FormData ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  const classify = (options: { key?: string; version?: number | string; base?: string } = {}) =>
    call('POST', '/v1/models/spam:classify', {
      key: options.key ?? keys.client,
      body: { texts: TEXTS },
      headers: options.version === undefined ? {} : { 'x-servable-version': String(options.version) },
      base: options.base,
    });
  const states = async (): Promise<Record<number, string>> => {
    const model = await call('GET', '/admin/api/models/spam', { key: ADMIN_KEY });
    expect(model.status, JSON.stringify(model.body)).toBe(200);
    return Object.fromEntries(model.body.versions.map((v: any) => [v.version, v.state]));
  };
  const allAvailable = (versions: number[]) => async () => {
    const now = await states();
    return versions.every((v) => now[v] === 'AVAILABLE');
  };
  /** Audit events after `afterId`, oldest first. */
  const auditSince = async (afterId: number): Promise<Array<AuditRow & { id: number; after: any }>> => {
    const res = await call('GET', '/admin/api/audit?limit=500', { key: ADMIN_KEY });
    expect(res.status).toBe(200);
    return res.body.events.filter((e: any) => e.id > afterId).reverse();
  };
  const lastAuditId = async (): Promise<number> => (await call('GET', '/admin/api/audit?limit=1', { key: ADMIN_KEY })).body.events[0]?.id ?? 0;
  const rowsOf = (events: AuditRow[]) => events.map(({ action, actor, target }) => ({ action, actor, target }));

  beforeAll(async () => {
    platform = await startPlatform(
      {},
      { common: { MODEL_REPOSITORY: repo.root }, env: { inference: { MODEL_VERSION_POLICY: 'none' } } },
    );
    const session = await call('GET', '/admin/api/session', { key: ADMIN_KEY });
    expect(session.body).toMatchObject({ auth: 'on', role: 'admin' });
    adminActor = `key:${session.body.key.id}:${session.body.key.name}`;
    // Start-up (import, admin key) is audited too, but is not this file's doing.
    auditFloor = await lastAuditId();
  });

  afterAll(async () => {
    await platform?.close();
    repo.remove();
  });

  it('loads every pinned version though inference loads nothing itself, again after inference restarts, and unloads an unpinned one', async () => {
    // The import pinned v1 and v2; with MODEL_VERSION_POLICY=none only the reconcile loop's LoadModel can make them AVAILABLE.
    await waitFor('v1 and v2 AVAILABLE', allAvailable([1, 2]));
    const first = await classify({ key: ADMIN_KEY });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.predictions.map((p: any) => p.label)).toEqual(['spam', 'ham']);

    await platform.stop('inference');
    await platform.start('inference');
    const restarted = Date.now();
    // No admin action: the next reconcile pass finds inference empty and loads both again.
    // Inference's own view (GET /v1/models/spam) and a request pinned to each version prove it, not just the registry.
    // Both are asked together: the registry's state and a request actually served by inference.
    await waitFor('both versions served again', async () => {
      const live = await call('GET', '/v1/models/spam', { key: ADMIN_KEY });
      if (live.status !== 200 || live.body.model_version_status.filter((s: any) => s.state === 'AVAILABLE').length !== 2) return false;
      for (const version of [1, 2]) if ((await classify({ key: ADMIN_KEY, version })).status !== 200) return false;
      return true;
    });
    console.log(`inference restarted with MODEL_VERSION_POLICY=none; v1 and v2 AVAILABLE again ${Date.now() - restarted} ms after it was ready`);
    expect(await states()).toEqual({ 1: 'AVAILABLE', 2: 'AVAILABLE' });
    for (const version of [1, 2]) {
      const res = await classify({ key: ADMIN_KEY, version });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.model_version).toBe(String(version));
      expect(res.body.predictions.map((p: any) => p.label)).toEqual(['spam', 'ham']);
    }

    // v1 is named by no label or rollout: unpinned, nothing keeps it loaded.
    const unpinned = await call('PUT', '/admin/api/models/spam/versions/1/pin', { key: ADMIN_KEY, body: { pinned: false } });
    expect(unpinned.status, JSON.stringify(unpinned.body)).toBe(200);
    expect(unpinned.body).toMatchObject({ version: 1, pinned: false });
    made.push({ action: 'version.pin', actor: adminActor, target: 'model:spam/1' });
    await waitFor('inference unloads v1', async () => {
      const live = await call('GET', '/v1/models/spam/versions/1', { key: ADMIN_KEY });
      return live.body?.model_version_status?.[0]?.state === 'END';
    });
    await waitFor('the registry shows v1 END', async () => (await states())[1] === 'END');
    expect((await states())[2]).toBe('AVAILABLE');
    expect((await classify({ key: ADMIN_KEY })).body.model_version).toBe('2');

    // Pinned again, it is loaded again: the later tests need both.
    expect((await call('PUT', '/admin/api/models/spam/versions/1/pin', { key: ADMIN_KEY, body: { pinned: true } })).status).toBe(200);
    made.push({ action: 'version.pin', actor: adminActor, target: 'model:spam/1' });
    await waitFor('v1 AVAILABLE again', allAvailable([1, 2]));
  });

  it('needs a key (401), the right role (403), and audits every change it allows but none it refuses', async () => {
    const before = await lastAuditId();
    const rollout = { stable: 2 };
    const anonymous = await call('PUT', '/admin/api/models/spam/rollout', { body: rollout });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('UNAUTHENTICATED');
    expect((await classify({ key: '' })).status).toBe(401);

    const create = async (name: string, role: string) => {
      const res = await call('POST', '/admin/api/api-keys', { key: ADMIN_KEY, body: { name, role } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.apiKey).toMatchObject({ name, role, revokedAt: null });
      made.push({ action: 'api_key.create', actor: adminActor, target: `api_key:${res.body.apiKey.id}` });
      return { key: res.body.key as string, actor: `key:${res.body.apiKey.id}:${name}` };
    };
    const operator = await create('e2e-operator', 'operator');
    const client = await create('e2e-app', 'client');
    keys.operator = operator.key;
    keys.operatorActor = operator.actor;
    keys.client = client.key;

    const served = await classify();
    expect(served.status, JSON.stringify(served.body)).toBe(200);
    const denied = await call('PUT', '/admin/api/models/spam/rollout', { key: keys.client, body: rollout });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('PERMISSION_DENIED');
    // Creating keys is the admin's: an operator is refused too.
    expect((await call('POST', '/admin/api/api-keys', { key: keys.operator, body: { name: 'x', role: 'admin' } })).status).toBe(403);

    const set = await call('PUT', '/admin/api/models/spam/rollout', { key: keys.operator, body: rollout });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({ model: 'spam', stableVersion: 2, canaryWeight: 0 });
    made.push({ action: 'rollout.set', actor: keys.operatorActor, target: 'model:spam' });

    const events = await auditSince(before);
    expect(rowsOf(events)).toEqual(made.slice(-3));
    expect(events.at(-1)?.after).toMatchObject({ stableVersion: 2 });
  });

  it('writes metric rows that add up to the requests that resolved to a version', async () => {
    const perVersion = { 1: 120, 2: 80 };
    const sent = perVersion[1] + perVersion[2];
    const totals = async () => {
      const res = await call('GET', `/admin/api/metrics?model=spam&from=${startedAt}&step=10`, { key: keys.operator });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const byVersion: Record<number, number> = { 1: 0, 2: 0 };
      for (const s of res.body.series) byVersion[s.version] = (byVersion[s.version] ?? 0) + s.points.reduce((sum: number, p: any) => sum + p.requests, 0);
      return byVersion;
    };
    // The earlier tests' requests are flushed within METRICS_FLUSH_INTERVAL_MS (500 ms); what is there after two is the baseline.
    await new Promise((r) => setTimeout(r, 1_100));
    const baseline = await totals();

    const plan = [...Array(perVersion[1]).fill(1), ...Array(perVersion[2]).fill(2)] as number[];
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < plan.length) {
          const version = plan[next++];
          const res = await classify({ version });
          statuses.push(res.status);
          expect(res.headers.get('x-model-version')).toBe(String(version));
        }
      }),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(sent);
    // Requests that never resolve to a version (unknown version, unknown model) are in no version's row.
    for (let i = 0; i < 5; i++) {
      expect((await classify({ version: 99 })).status).toBe(404);
      expect((await call('POST', '/v1/models/nope:classify', { key: keys.client, body: { texts: TEXTS } })).status).toBe(404);
    }

    const delta = (now: Record<number, number>) => ({ 1: now[1] - baseline[1], 2: now[2] - baseline[2] });
    let seen = baseline;
    await waitFor(`metric rows summing to ${sent}`, async () => {
      seen = await totals();
      const d = delta(seen);
      return d[1] + d[2] >= sent;
    }, 10_000, 200);
    expect(delta(seen)).toEqual(perVersion);
    // Another flush later nothing was counted twice.
    await new Promise((r) => setTimeout(r, 700));
    expect(delta(await totals())).toEqual(perVersion);
  });

  it.skipIf(skipWithoutPostgres)(
    'applies a rollout change made through one gateway process on another within a second (needs PostgreSQL: PGlite is one process)',
    async () => {
      requirePostgres('a second gateway process');
      const b = await platform.startGateway();
      try {
        // The same database: gateway B knows the key made through A and A's rollout (stable 2).
        const onB = await classify({ base: b.url });
        expect(onB.status, JSON.stringify(onB.body)).toBe(200);
        expect(onB.body.model_version).toBe('2');

        const versionOn = async (base: string) => (await classify({ base })).headers.get('x-model-version');
        const propagation = async (change: () => Promise<Answer>, base: string, want: string) => {
          const res = await change();
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          const committed = Date.now();
          await waitFor(`version ${want} on the other gateway`, async () => (await versionOn(base)) === want, 5_000, 20);
          return Date.now() - committed;
        };

        const aToB = await propagation(
          () => call('PUT', '/admin/api/models/spam/rollout', { key: keys.operator, body: { stable: 2, canary: 1, canaryWeight: 100 } }),
          b.url,
          '1',
        );
        made.push({ action: 'rollout.set', actor: keys.operatorActor, target: 'model:spam' });
        const bToA = await propagation(() => call('POST', '/admin/api/models/spam/rollout/rollback', { key: keys.operator, base: b.url }), platform.url, '2');
        made.push({ action: 'rollout.rollback', actor: keys.operatorActor, target: 'model:spam' });
        console.log(`rollout change applied on the other gateway after ${aToB} ms (A → B) and ${bToA} ms (B → A)`);
        expect(aToB).toBeLessThan(1_000);
        expect(bToA).toBeLessThan(1_000);
      } finally {
        await b.stop();
      }
    },
  );

  describe('registering a version through the upload', () => {
    const listing = () => ({
      spam: readdirSync(join(repo.root, 'spam')).sort(),
      tokenizers: readdirSync(join(repo.root, 'tokenizers')).sort(),
      staging: existsSync(join(repo.root, '.staging')) ? readdirSync(join(repo.root, '.staging')) : [],
    });
    const formOf = (files: Array<{ name: string; bytes: Buffer }>, tokenizer: Buffer) => {
      const form = new FormData();
      for (const f of files) form.append('files', new Blob([f.bytes]), f.name);
      form.append('tokenizer', new Blob([tokenizer]), 'tokenizer.json');
      return form;
    };
    const upload = (form: FormData) => call('POST', '/admin/api/models/spam/versions', { key: ADMIN_KEY, body: form });
    const v3 = () => uploadOf(repo.root, 3);
    const withFile = (files: Array<{ name: string; bytes: Buffer }>, name: string, bytes: (b: Buffer) => Buffer) =>
      files.map((f) => (f.name === name ? { name, bytes: bytes(f.bytes) } : f));

    it.each([
      {
        what: 'a tokenizer.json whose bytes do not match the declared hash',
        form: () => formOf(v3().files, Buffer.concat([v3().tokenizer, Buffer.from('\n')])),
        status: 409,
        code: 'FAILED_PRECONDITION',
        message: /tokenizer mismatch/,
      },
      {
        what: 'a corrupt model.json',
        form: () => formOf(withFile(v3().files, 'model.json', (b) => b.subarray(0, 100)), v3().tokenizer),
        status: 400,
        code: 'INVALID_ARGUMENT',
        message: /model\.json is not JSON/,
      },
      {
        what: 'truncated weights',
        form: () => formOf(withFile(v3().files, 'weights.bin', (b) => b.subarray(0, b.length / 2)), v3().tokenizer),
        status: 409,
        code: 'FAILED_PRECONDITION',
        message: /spam\/3 did not load and answer a warm-up prediction: ./,
      },
    ])('refuses $what and leaves no trace: no directory, no staging, no row, no audit event', async ({ form, status, code, message }) => {
      const before = { files: listing(), audit: await lastAuditId() };
      const res = await upload(form());
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.code).toBe(code);
      expect(res.body.error).toMatch(message);

      expect(listing()).toEqual(before.files);
      expect(listing()).toMatchObject({ spam: ['1', '2'], staging: [] });
      expect(Object.keys(await states())).toEqual(['1', '2']);
      expect(await auditSince(before.audit)).toEqual([]);
    });

    it('registers a valid upload, which the reconcile loop loads and which then serves', async () => {
      const before = await lastAuditId();
      const { files, tokenizer } = v3();
      const res = await upload(formOf(files, tokenizer));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({ model: 'spam', version: 3, source: 'upload', pinned: true });
      made.push({ action: 'version.register', actor: adminActor, target: 'model:spam/3' });
      expect(rowsOf(await auditSince(before))).toEqual(made.slice(-1));
      expect(listing()).toMatchObject({ spam: ['1', '2', '3'], staging: [] });
      expect(readdirSync(join(repo.root, 'spam', '3')).sort()).toEqual(files.map((f) => f.name).sort());

      // Pinned on upload, so the reconcile loop loads it in inference, which reads the same repository.
      await waitFor('v3 AVAILABLE', allAvailable([1, 2, 3]));
      // The gateway re-reads the repository listing every 5 s, so v3 may be unknown to routing for a moment.
      await waitFor('classify pinned to v3', async () => (await classify({ version: 3 })).status === 200, 10_000, 250);
      const served = await classify({ version: 3 });
      expect(served.body.model_version).toBe('3');
      // v1's weights under another number: v1's answer.
      const v1 = await classify({ version: 1 });
      served.body.predictions.forEach((p: any, i: number) => {
        for (const label of Object.keys(p.scores)) expect(p.scores[label]).toBeCloseTo(v1.body.predictions[i].scores[label], TOLERANCE);
      });
    });
  });

  it('has exactly one audit event per mutation this file made, in order', async () => {
    expect(rowsOf(await auditSince(auditFloor))).toEqual(made);
  });
});
