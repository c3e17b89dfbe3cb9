/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the admin API under test */
import type * as grpc from '@grpc/grpc-js';
import { uploadOf } from '@servable/persistence/testing';
import { waitFor } from '@servable/observability/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferenceClient, unary } from './support/grpc-client';
import { startLoad, errorCode, summarise, type Outcome } from './support/load';
import { ADMIN_KEY } from './support/platform';
import { CI } from './support/postgres';
import { counterSum, startReplicaPlatform, type GatewayReplica, type Replica, type ReplicaPlatform } from './support/replicas';

const DATABASE_URL = process.env['DATABASE_URL'];
if (!DATABASE_URL && CI) {
  // CI has PostgreSQL: a missing DATABASE_URL there is a broken pipeline, not a reason to skip.
  throw new Error('the replica suite needs PostgreSQL (several gateways on one database): DATABASE_URL is not set under CI');
}
if (!DATABASE_URL) console.warn('[replicas] skipped: several gateway replicas need PostgreSQL; set DATABASE_URL=postgres://… to run this suite');

const TEXT = 'Congratulations! You have WON a FREE cruise. Click here now to claim your prize!!!';
/** Concurrency of the load runs: at most this many requests are in flight when something is killed. */
const CONCURRENCY = 8;
/** The gateways' SHUTDOWN_GRACE_MS: readiness fails at SIGTERM, new work is refused this much later. */
const GRACE_MS = 1_000;
/** The inference replicas' SHUTDOWN_GRACE_MS: longer than the gateways' health-check period, so they see it drain. */
const INFERENCE_GRACE_MS = 2_000;
/**
 * Inference's counter of rows predicted, by model and version; tolerant of a servable_ prefix.
 * Rows, not Predict calls: the gateway merges concurrent requests for a version into one
 * Predict, and every request here sends one text, so rows count requests served.
 */
const ROWS = /^(servable_)?inference_rows_total$/;

const measures: string[] = [];
const measure = (line: string) => {
  measures.push(line);
  console.log(`[measure] ${line}`);
};

/**
 * Several replicas of every service on one machine, as Kubernetes runs them:
 * 2 gateways on one PostgreSQL database, 2 tokenizer and 2 inference replicas
 * on their own loopback addresses behind a static address list, and a third
 * inference address (127.0.0.4) in that list from the start that comes up only
 * later. Gateway B gets one DNS name per service instead of the list (answered
 * by support/fake-dns.cjs with the ready replicas). Inference loads nothing by
 * itself (MODEL_VERSION_POLICY=none), so every version a replica holds reached
 * it as the control plane's desired state.
 *
 * The tests run in order on one platform: each leaves it as the next expects.
 */
describe.skipIf(!DATABASE_URL)('several replicas of every service (2 gateways, 2 tokenizers, 2 + 1 inference)', () => {
  let platform: ReplicaPlatform;
  let gateways: GatewayReplica[];
  /** Inference replicas started with the platform (127.0.0.2, 127.0.0.3). */
  let inference: Replica[];
  let newcomer: Replica;
  const clients = new Map<string, grpc.Client>();

  const call = async (method: string, path: string, options: { base?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
    const { base = gateways[0].url, body, headers = {} } = options;
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined || body instanceof FormData ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : body instanceof FormData ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: kept as text for the failure message */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  const classifyRequest = (base: string, version?: number) =>
    fetch(`${base}/v1/models/spam${version ? `/versions/${version}` : ''}:classify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ texts: [TEXT] }),
    });
  /** A load's sender that cycles through the gateways and through `versions` pinned, plus the unpinned route. */
  const everyVersion = (versions: number[]) => {
    let i = 0;
    const plan = [undefined, ...versions];
    return () => {
      const n = i++;
      // Every version through every gateway: the gateway changes once per round of versions.
      return classifyRequest(gateways[Math.floor(n / plan.length) % gateways.length].url, plan[n % plan.length]);
    };
  };
  const classify = (base: string, version?: number) => call('POST', `/v1/models/spam${version ? `/versions/${version}` : ''}:classify`, { base, body: { texts: [TEXT] } });

  /** The admin API's versions of spam: state, and per inference replica what it holds. */
  const versionsView = async (base = gateways[0].url): Promise<any[]> => {
    const res = await call('GET', '/admin/api/models/spam', { base });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.versions;
  };
  const adminStates = async (): Promise<Record<number, string>> => Object.fromEntries((await versionsView()).map((v) => [v.version, v.state]));
  /** What one inference replica itself says it holds (its own GetModelStatus), {} when it holds nothing or does not answer. */
  const replicaStates = async (replica: Replica): Promise<Record<number, string>> => {
    let client = clients.get(replica.grpcUrl);
    if (!client) clients.set(replica.grpcUrl, (client = inferenceClient(replica.grpcUrl)));
    try {
      const reply = await unary(client, 'getModelStatus', { modelSpec: { name: 'spam', version: 0 } });
      return Object.fromEntries(reply.modelVersionStatus.map((s: any) => [Number(s.version), s.state]));
    } catch {
      return {};
    }
  };
  /** Versions the control plane wants loaded: AVAILABLE in the admin API. */
  const desired = async () =>
    Object.entries(await adminStates())
      .filter(([, s]) => s === 'AVAILABLE')
      .map(([v]) => Number(v));
  const holds = async (replica: Replica, versions: number[]) => {
    const states = await replicaStates(replica);
    return versions.every((v) => states[v] === 'AVAILABLE');
  };
  /** Requests (one row each) a replica answered, by its own /metrics, for one version or all. */
  const predicts = async (replica: Replica, version?: number) =>
    counterSum(await replica.metrics(), ROWS, (l) => l['model'] === 'spam' && (version === undefined || l['version'] === String(version)));
  const elapsedSince = (t: number) => Date.now() - t;

  beforeAll(async () => {
    platform = await startReplicaPlatform({
      gateways: 2,
      tokenizers: ['127.0.0.2', '127.0.0.3'],
      inference: ['127.0.0.2', '127.0.0.3', { host: '127.0.0.4', startNow: false }],
      // Gateway B finds the replicas behind one DNS name per service, as behind a headless Service.
      dnsGateways: [1],
      // E2E_IPV4_LIST=1: gateway A gets gRPC's own notation, ipv4:host:port,host:port, instead of the plain list.
      ...(process.env['E2E_IPV4_LIST'] ? { addressList: (urls: string[]) => `ipv4:${urls.join(',')}` } : {}),
      env: {
        inference: { MODEL_VERSION_POLICY: 'none', SHUTDOWN_GRACE_MS: String(INFERENCE_GRACE_MS) },
        gateway: { SHUTDOWN_GRACE_MS: String(GRACE_MS) },
      },
    });
    gateways = platform.gateways;
    inference = platform.inference.slice(0, 2);
    newcomer = platform.inference[2];
    console.log(
      `[replicas] logs in ${platform.logDir}; gateway-a: TOKENIZER_URL=${platform.tokenizerUrl} INFERENCE_URL=${platform.inferenceUrl}; ` +
        `gateway-b: TOKENIZER_URL=${platform.names.tokenizer} INFERENCE_URL=${platform.names.inference}`,
    );
    // The import pins v1 and v2.
    await waitFor('v1 and v2 AVAILABLE in the admin API', async () => (await desired()).length >= 2, 120_000, 250);
  });

  afterAll(async () => {
    for (const client of clients.values()) client.close();
    await platform?.close();
    if (measures.length) console.log(`[measure] summary:\n  ${measures.join('\n  ')}`);
  });

  it('loads the imported versions on every inference replica, though inference loads nothing by itself', async () => {
    // AVAILABLE stays AVAILABLE: the registry does not flip with whichever replica answered last.
    expect(await adminStates()).toEqual({ 1: 'AVAILABLE', 2: 'AVAILABLE' });
    for (const replica of inference) await waitFor(`${replica.name} holds v1 and v2`, () => holds(replica, [1, 2]), 30_000, 250);
  });

  it('serves an uploaded version from every inference replica as soon as the admin API says AVAILABLE', async () => {
    const before = await Promise.all(inference.map((r) => predicts(r, 3)));
    const { files, tokenizer } = uploadOf(platform.repository, 3);
    const form = new FormData();
    for (const f of files) form.append('files', new Blob([f.bytes]), f.name);
    form.append('tokenizer', new Blob([tokenizer]), 'tokenizer.json');
    const uploaded = await call('POST', '/admin/api/models/spam/versions', { body: form });
    expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(201);
    const uploadedAt = Date.now();

    // Each replica's own view, watched from the upload on: when did each one hold v3?
    const onReplica = Promise.all(
      inference.map(async (r) => {
        await waitFor(`${r.name} holds v3`, () => holds(r, [3]), 60_000, 50);
        return elapsedSince(uploadedAt);
      }),
    );
    onReplica.catch(() => undefined); // awaited below; a failure there is reported there
    await waitFor('v3 AVAILABLE in the admin API', async () => (await adminStates())[3] === 'AVAILABLE', 60_000, 50);
    const available = elapsedSince(uploadedAt);

    // At once, without waiting for anything else: every request pinned to v3 is served.
    let next = 0;
    const answers: Array<{ status: number; body: any; via: string }> = [];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < 40) {
          const gateway = gateways[next++ % gateways.length];
          const res = await classify(gateway.url, 3);
          answers.push({ status: res.status, body: res.body, via: gateway.name });
        }
      }),
    );
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(answers.every((a) => a.body.model_version === '3')).toBe(true);

    const everyReplica = Math.max(...(await onReplica));
    // The admin API names each replica and what it holds.
    let replicasShown = -1;
    await waitFor(
      "the admin API's v3 shows both replicas AVAILABLE",
      async () => {
        const v3 = (await versionsView()).find((v) => v.version === 3);
        const ok = inference.every((r) => v3?.replicas?.some((x: any) => String(x.address).includes(r.grpcUrl) && x.state === 'AVAILABLE'));
        if (ok && replicasShown < 0) replicasShown = elapsedSince(uploadedAt);
        return ok;
      },
      5_000,
      50,
    ).catch(async (err) => {
      const v3 = (await versionsView()).find((v) => v.version === 3);
      throw new Error(`${(err as Error).message}; v3 is ${JSON.stringify(v3)}`);
    });
    const v3 = (await versionsView()).find((v) => v.version === 3);
    for (const entry of v3.replicas) expect(entry).toMatchObject({ address: expect.any(String), state: expect.any(String) });
    // And the other gateway's admin API says the same.
    const onB = (await versionsView(gateways[1].url)).find((v) => v.version === 3);
    expect(onB.state).toBe('AVAILABLE');
    // So does TF Serving's status API, which names the replicas too (beyond TF Serving's shape).
    const tfs = await call('GET', '/v1/models/spam/versions/3', { base: gateways[1].url });
    expect(tfs.status, JSON.stringify(tfs.body)).toBe(200);
    expect(tfs.body.model_version_status[0]).toMatchObject({ version: '3', state: 'AVAILABLE' });
    for (const r of inference) {
      expect(tfs.body.model_version_status[0].replicas, JSON.stringify(tfs.body)).toContainEqual(expect.objectContaining({ address: expect.stringContaining(r.grpcUrl), state: 'AVAILABLE' }));
    }

    const served = (await Promise.all(inference.map((r) => predicts(r, 3)))).map((n, i) => n - before[i]);
    console.log(`[replicas] v3 requests served per inference replica: ${inference.map((r, i) => `${r.name}=${served[i]}`).join(', ')}`);
    for (const n of served) expect(n).toBeGreaterThan(0);
    expect(served.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(40);

    measure(`upload → AVAILABLE in the admin API: ${available} ms`);
    measure(`upload → AVAILABLE on every inference replica (each replica's GetModelStatus): ${everyReplica} ms`);
    measure(`upload → admin API lists v3 AVAILABLE on every replica: ${replicasShown} ms`);
  });

  it('applies a rollout change made on one gateway on the other within a second', async () => {
    const [a, b] = gateways;
    const versionOn = async (base: string) => (await classify(base)).headers.get('x-model-version');
    // A known starting point: everything on v2.
    const start = await call('PUT', '/admin/api/models/spam/rollout', { body: { stable: 2 } });
    expect(start.status, JSON.stringify(start.body)).toBe(200);
    for (const g of gateways) await waitFor(`${g.name} routes to v2`, async () => (await versionOn(g.url)) === '2', 10_000, 50);

    const propagation = async (change: () => ReturnType<typeof call>, other: GatewayReplica, want: string) => {
      const res = await change();
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const committed = Date.now();
      await waitFor(`v${want} on ${other.name}`, async () => (await versionOn(other.url)) === want, 5_000, 20);
      return elapsedSince(committed);
    };
    const aToB = await propagation(() => call('PUT', '/admin/api/models/spam/rollout', { base: a.url, body: { stable: 2, canary: 1, canaryWeight: 100 } }), b, '1');
    // The admin API on B reads the same rollout.
    expect((await call('GET', '/admin/api/models/spam/rollout', { base: b.url })).body.rollout).toMatchObject({ stableVersion: 2, canary: 1, canaryWeight: 100 });
    const bToA = await propagation(() => call('POST', '/admin/api/models/spam/rollout/rollback', { base: b.url }), a, '2');
    measure(`rollout change on one gateway in effect on the other: ${aToB} ms (A → B), ${bToA} ms (B → A)`);
    expect(aToB).toBeLessThan(1_000);
    expect(bToA).toBeLessThan(1_000);
  });

  it("keeps both gateways ready and serving when a tokenizer replica is killed, and the replica gets its ports back on restart", async () => {
    const victim = platform.tokenizers[1];
    await victim.kill();
    const killedAt = Date.now();
    // Readiness is "at least one ready replica of each service": sampled for 2 s, never 503.
    const unready: string[] = [];
    while (elapsedSince(killedAt) < 2_000) {
      for (const g of gateways) {
        const res = await fetch(`${g.url}/readyz`);
        if (res.status !== 200) unready.push(`${g.name} ${res.status} ${await res.text()}`);
        else await res.text();
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(unready).toEqual([]);
    // The console's overview names the replica that is down, and the service as SERVING.
    const tokenizerHealth = async () => (await call('GET', '/admin/api/overview')).body.services.find((s: any) => s.name === 'tokenizer');
    await waitFor(`the overview shows ${victim.name} down`, async () => {
      const health = await tokenizerHealth();
      return health.status === 'SERVING' && health.replicas?.some((r: any) => String(r.address).includes(victim.grpcUrl) && r.status !== 'SERVING');
    }, 5_000, 100);
    // The other tokenizer replica serves every request.
    for (let i = 0; i < 10; i++) {
      const res = await classify(gateways[i % 2].url);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }

    // Restarted at once on the same address and port the dead process had.
    const restartAt = Date.now();
    await victim.start();
    const ready = elapsedSince(restartAt);
    await waitFor(`the overview shows ${victim.name} SERVING again`, async () =>
      !!(await tokenizerHealth()).replicas?.some((r: any) => String(r.address).includes(victim.grpcUrl) && r.status === 'SERVING'),
    10_000, 100);
    measure(`tokenizer replica restarted after kill -9: ready ${ready} ms after spawn, SERVING in the gateway's overview ${elapsedSince(restartAt)} ms after spawn`);
  });

  it('loses at most the requests in flight when an inference replica is killed with -9 under load', async () => {
    const victim = inference[1];
    const before = await predicts(victim);
    const load = startLoad({ concurrency: CONCURRENCY, durationMs: 6_000, send: (w) => classifyRequest(gateways[w % gateways.length].url) });
    // Kill it once it visibly takes its share of the load.
    await waitFor(`${victim.name} serves part of the load`, async () => (await predicts(victim)) - before >= 20, 10_000, 100);
    const servedBeforeKill = (await predicts(victim)) - before;
    await victim.kill();
    const killedAt = Date.now();
    const result = await load.done;

    const failed = result.outcomes.filter((o) => o.status !== 200);
    const afterKill = result.outcomes.filter((o) => o.startedAt > killedAt + 500);
    console.log(`[replicas] kill -9 under load: ${JSON.stringify(result.byStatus)}; failures: ${JSON.stringify(failed.slice(0, 10))}`);
    measure(
      `kill -9 of ${victim.name} under load (concurrency ${CONCURRENCY}, 2 gateways, ~6 s): ${result.total} requests, ${failed.length} failed ` +
        `(it had served ${servedBeforeKill} before the kill; ${afterKill.length} requests started > 0.5 s after it)`,
    );
    expect(failed.length).toBeLessThanOrEqual(CONCURRENCY);
    // The survivor carried on: requests after the kill were answered.
    expect(afterKill.length).toBeGreaterThan(0);
    expect(afterKill.every((o) => o.status === 200)).toBe(true);
  });

  it('restarts the killed inference replica on its own ports and loads what the control plane wants, failing no request meanwhile', async () => {
    const victim = inference[1];
    const wanted = await desired();
    // Requests for every version while it comes back empty: none may reach it before it holds their version.
    const stop = new AbortController();
    const load = startLoad({ concurrency: 2, durationMs: 60_000, signal: stop.signal, send: everyVersion(wanted) });
    let ready = -1;
    let converged = -1;
    try {
      const spawnedAt = Date.now();
      await victim.start();
      ready = elapsedSince(spawnedAt);
      const readyAt = Date.now();
      await waitFor(`${victim.name} holds v${wanted.join(', v')} again`, () => holds(victim, wanted), 30_000, 100);
      converged = elapsedSince(readyAt);
    } finally {
      stop.abort();
    }
    const result = await load.done;
    measure(`inference replica restarted after kill -9: ready ${ready} ms after spawn, holds v${wanted.join(', v')} ${converged} ms after ready; ${result.total} requests meanwhile, ${JSON.stringify(result.byStatus)}`);
    expect(converged).toBeLessThan(10_000);
    expect(result.outcomes.filter((o) => o.status !== 200)).toEqual([]);
  });

  it('sends traffic to an inference replica that starts later, which first loads what the control plane wants', async () => {
    const spawnedAt = Date.now();
    await newcomer.start();
    const readyAt = Date.now();
    // Ready, so a headless Service lists it: gateway B finds it when it resolves the name again; A has its address already.
    platform.publish('inference', [...inference, newcomer]);
    const wanted = await desired();

    // A light load through both gateways, until the newcomer has answered some of it.
    const stop = new AbortController();
    const load = startLoad({ concurrency: 2, durationMs: 60_000, signal: stop.signal, send: everyVersion(wanted) });
    let converged = -1;
    let traffic = -1;
    try {
      await Promise.all([
        waitFor(`${newcomer.name} holds v${wanted.join(', v')}`, () => holds(newcomer, wanted), 30_000, 100).then(() => (converged = elapsedSince(readyAt))),
        waitFor(`${newcomer.name} answers requests`, async () => (await predicts(newcomer)) > 0, 45_000, 250).then(() => (traffic = elapsedSince(readyAt))),
      ]);
    } finally {
      stop.abort();
    }
    const result = await load.done;
    // Both gateways know it: A from its static list, B by resolving the DNS name again.
    let known = -1;
    await waitFor(`${newcomer.name} SERVING in every gateway's overview`, async () => {
      for (const g of gateways) {
        const overview = await call('GET', '/admin/api/overview', { base: g.url });
        const health = overview.body.services.find((x: any) => x.name === 'inference');
        if (!health.replicas?.some((r: any) => String(r.address).includes(newcomer.grpcUrl) && r.status === 'SERVING')) return false;
      }
      known = elapsedSince(readyAt);
      return true;
    }, 30_000, 250);
    measure(
      `inference replica started later: ready ${readyAt - spawnedAt} ms after spawn; holds the desired versions ${converged} ms and gets traffic ${traffic} ms after ready; ` +
        `SERVING in both gateways' overview (B through the DNS name) ${known} ms after ready`,
    );
    expect(converged).toBeLessThan(10_000);
    expect(traffic).toBeLessThan(30_000);
    expect(known).toBeLessThan(30_000);
    // No request for any version reached it before it held that version (no 409 "not loaded" on the way).
    expect(result.outcomes.filter((o) => o.status !== 200)).toEqual([]);
  });

  it('fails no request when an inference replica gets SIGTERM under load: it drains, and the gateways stop sending to it first', async () => {
    const leaving = newcomer;
    const before = await predicts(leaving);
    const load = startLoad({ concurrency: CONCURRENCY, durationMs: INFERENCE_GRACE_MS + 4_000, send: (w) => classifyRequest(gateways[w % gateways.length].url) });
    await waitFor(`${leaving.name} serves part of the load`, async () => (await predicts(leaving)) - before >= 10, 10_000, 100);
    leaving.process.signal('SIGTERM');
    const sigtermAt = Date.now();
    // Its readiness fails at once, so a headless Service drops it from the name.
    platform.publish('inference', inference);
    const exit = await Promise.race([leaving.process.exited(), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), INFERENCE_GRACE_MS + 10_000))]);
    const exitedAfter = elapsedSince(sigtermAt);
    const result = await load.done;
    const failed = result.outcomes.filter((o) => o.status !== 200);
    console.log(`[replicas] SIGTERM to ${leaving.name} under load: ${JSON.stringify(result.byStatus)}; failures: ${JSON.stringify(failed.slice(0, 10))}`);
    measure(`SIGTERM to ${leaving.name} under load (concurrency ${CONCURRENCY}, grace ${INFERENCE_GRACE_MS} ms): ${result.total} requests, ${failed.length} failed; exit ${JSON.stringify(exit)} after ${exitedAfter} ms`);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(failed).toEqual([]);
  });

  it('answers no 5xx when a gateway gets SIGTERM under load: readiness fails first, in-flight requests finish, later connections are refused', async () => {
    const a = gateways[0];
    const stop = new AbortController();
    const load = startLoad({ concurrency: CONCURRENCY, durationMs: 8_000, signal: stop.signal, send: () => classifyRequest(a.url) });

    // /readyz watched on connections of its own: when does it turn 503?
    let readyzFailedAt = -1;
    const readiness: Outcome[] = [];
    const watcher = (async () => {
      while (!stop.signal.aborted) {
        const startedAt = Date.now();
        try {
          const res = await fetch(`${a.url}/readyz`);
          await res.text();
          readiness.push({ worker: -1, startedAt, endedAt: Date.now(), status: res.status });
          if (res.status === 503 && readyzFailedAt < 0) readyzFailedAt = Date.now();
        } catch (err) {
          readiness.push({ worker: -1, startedAt, endedAt: Date.now(), error: errorCode(err) });
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    await waitFor('the load is under way', () => load.outcomes.length >= 40, 10_000, 50);
    a.process.signal('SIGTERM');
    const sigtermAt = Date.now();
    const exit = await Promise.race([a.process.exited(), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), GRACE_MS + 5_000))]);
    const exitedAfter = elapsedSince(sigtermAt);
    // Connections after the exit are refused at once, cleanly.
    let refused = '';
    try {
      await fetch(`${a.url}/readyz`);
    } catch (err) {
      refused = errorCode(err);
    }
    stop.abort();
    const result = await load.done;
    await watcher;

    const closeAt = sigtermAt + GRACE_MS;
    const responses = result.outcomes.filter((o) => o.status !== undefined);
    const serverErrors = responses.filter((o) => (o.status ?? 0) >= 500);
    const errors = result.outcomes.filter((o) => o.error);
    const earlyErrors = errors.filter((o) => o.endedAt < closeAt - 50);
    const servedInGrace = responses.filter((o) => o.status === 200 && o.endedAt > sigtermAt && o.endedAt < closeAt);
    const errorCodes = summarise(errors).byStatus;
    const relative = (o: Outcome) => `${o.error ?? o.status} sent +${o.startedAt - sigtermAt} ms, ended +${o.endedAt - sigtermAt} ms`;
    console.log(
      `[replicas] SIGTERM under load: ${JSON.stringify(result.byStatus)}; readyz: ${JSON.stringify(summarise(readiness).byStatus)}; ` +
        `resets: ${JSON.stringify(errors.filter((o) => o.error !== 'ECONNREFUSED').map(relative))}; last answer ended +${Math.max(...responses.map((o) => o.endedAt)) - sigtermAt} ms`,
    );
    measure(
      `SIGTERM to ${a.name} under load (concurrency ${CONCURRENCY}, keep-alive): ${result.total} requests, ${responses.length} answered, ` +
        `${serverErrors.length} 5xx, ${servedInGrace.length} answered during the ${GRACE_MS} ms grace, ${errors.length} refused/reset after close ${JSON.stringify(errorCodes)} ` +
        `(of which ${errors.filter((o) => o.error !== 'ECONNREFUSED' && o.startedAt < closeAt).length} reset requests sent on a kept-alive connection before the grace ended); ` +
        `/readyz 503 after ${readyzFailedAt < 0 ? 'never' : readyzFailedAt - sigtermAt} ms; exit ${JSON.stringify(exit)} after ${exitedAfter} ms`,
    );

    expect(exit).toEqual({ code: 0, signal: null });
    expect(serverErrors).toEqual([]);
    expect(responses.every((o) => o.status === 200)).toBe(true);
    // Readiness failed at once, while the server still took requests (so an endpoint update can land).
    expect(readyzFailedAt).toBeGreaterThan(0);
    expect(readyzFailedAt - sigtermAt).toBeLessThan(GRACE_MS);
    expect(servedInGrace.length).toBeGreaterThan(0);
    // Only after the grace period may connections fail, and only by refusal or reset.
    expect(earlyErrors).toEqual([]);
    for (const code of Object.keys(errorCodes)) expect(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']).toContain(code);
    expect(refused).toBe('ECONNREFUSED');

    // The other gateway kept serving throughout.
    const other = await classify(gateways[1].url);
    expect(other.status, JSON.stringify(other.body)).toBe(200);
  });
});
