// Renders the base and every overlay with `kubectl kustomize` and checks each object against the
// Kubernetes schemas (kubernetes-models' validators, generated from the API's OpenAPI), including
// fields the schema does not know: a typo such as `readinessProbes` would be silently dropped
// by an API server, so it fails here. Then checks what the deployment promises.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '../..');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const noKubectl = kubectl.status !== 0;
if (noKubectl && process.env.CI === 'true') throw new Error('kubectl is missing (apt-get install kubectl); CI=true must validate the manifests');

const scratch = mkdtempSync(join(tmpdir(), 'servable-kustomize-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `kubectl kustomize <dir>` parsed into objects. */
function render(dir) {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJS());
}

/** An overlay plus optional components, composed the way docs/deploy.md tells a user to, in their own kustomization. */
function renderWith(overlay, components) {
  const dir = mkdtempSync(join(scratch, 'k-'));
  // Kustomize refuses absolute paths to other kustomizations.
  const from = (p) => relative(dir, join(HERE, p));
  const namespace = render(join(HERE, overlay)).find((o) => o.kind === 'Namespace').metadata.name;
  writeFileSync(join(dir, 'kustomization.yaml'), JSON.stringify({ namespace, resources: [from(overlay)], components: components.map(from) }));
  const objects = render(dir);
  // What a component adds lands in the overlay's namespace, not kubectl's current one.
  for (const o of objects.filter((x) => x.kind !== 'Namespace')) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(namespace);
  return objects;
}

const SCHEMAS = {
  'v1/ConfigMap': 'kubernetes-models/_schemas/IoK8sApiCoreV1ConfigMap',
  'v1/Namespace': 'kubernetes-models/_schemas/IoK8sApiCoreV1Namespace',
  'v1/PersistentVolumeClaim': 'kubernetes-models/_schemas/IoK8sApiCoreV1PersistentVolumeClaim',
  'v1/Service': 'kubernetes-models/_schemas/IoK8sApiCoreV1Service',
  'apps/v1/Deployment': 'kubernetes-models/_schemas/IoK8sApiAppsV1Deployment',
  'autoscaling/v2/HorizontalPodAutoscaler': 'kubernetes-models/_schemas/IoK8sApiAutoscalingV2HorizontalPodAutoscaler',
  'policy/v1/PodDisruptionBudget': 'kubernetes-models/_schemas/IoK8sApiPolicyV1PodDisruptionBudget',
  'networking.k8s.io/v1/NetworkPolicy': 'kubernetes-models/_schemas/IoK8sApiNetworkingV1NetworkPolicy',
  // This package exports no _schemas path; its file is imported by URL, next to the package's entry.
  'monitoring.coreos.com/v1/ServiceMonitor': new URL(
    '_schemas/ComGithubPrometheusOperatorPrometheusOperatorPkgApisMonitoringV1ServiceMonitor.js',
    import.meta.resolve('@kubernetes-models/prometheus-operator'),
  ).href,
};

/**
 * Wraps an object tree in proxies that note which keys the validator reads. The generated
 * validators read every property their schema declares, so a key nobody read is one the schema
 * does not know (the schemas themselves allow extra properties). Below an unknown key nothing is
 * read at all, so only the outermost unknown key is reported.
 */
function recording(value, path, unread) {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v, i) => recording(v, `${path}[${i}]`, unread));
  const read = new Set();
  const copy = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, recording(v, `${path}.${k}`, unread)]));
  unread.push(() => (read.size === 0 ? [] : Object.keys(value).filter((k) => !read.has(k)).map((k) => `${path}.${k}`)));
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key, receiver);
    },
  });
}

/** Problems with one object: schema errors and unknown fields, as readable lines. */
async function problems(object) {
  const type = `${object.apiVersion}/${object.kind}`;
  const module = SCHEMAS[type];
  if (!module) return [`no schema for ${type} (add it to SCHEMAS)`];
  const { validate } = await import(module);
  const unread = [];
  const valid = validate(recording(object, '', unread));
  const errors = valid ? [] : validate.errors.map((e) => `${e.instancePath || '/'} ${e.keyword} ${JSON.stringify(e.params)}`);
  return [...errors, ...unread.flatMap((f) => f()).map((p) => `${p}: unknown field`)];
}

const RENDERS = {
  base: () => render(join(HERE, 'base')),
  'overlays/dev': () => render(join(HERE, 'overlays/dev')),
  'overlays/production': () => render(join(HERE, 'overlays/production')),
  'overlays/dev + servicemonitor': () => renderWith('overlays/dev', ['components/servicemonitor']),
  'overlays/dev + shared-models': () => renderWith('overlays/dev', ['components/shared-models']),
  'overlays/production + servicemonitor': () => renderWith('overlays/production', ['components/servicemonitor']),
  'overlays/production + servicemonitor + queue-autoscaling': () =>
    renderWith('overlays/production', ['components/servicemonitor', 'components/queue-autoscaling']),
};

/** A memory quantity (`768Mi`, `1Gi`, `512M`) in bytes. */
const parseQuantity = (q) => {
  const [, n, unit = ''] = /^(\d+(?:\.\d+)?)([KMGT]i?)?$/.exec(String(q));
  const power = { '': 0, K: 1, M: 2, G: 3, T: 4 }[unit[0] ?? ''];
  return Number(n) * (unit.endsWith('i') ? 1024 : 1000) ** power;
};

const find = (objects, kind, name) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const deployment = (objects, app) => find(objects, 'Deployment', `servable-${app}`);
const container = (objects, app) => deployment(objects, app).spec.template.spec.containers.find((c) => c.name === app);
const exposed = (app) => [...readFileSync(join(ROOT, 'apps', app, 'Dockerfile'), 'utf8').matchAll(/^EXPOSE (.+)$/gm)].flatMap((m) => m[1].split(/\s+/).map(Number));
const dockerUser = (app) => /^USER (\d+):(\d+)$/m.exec(readFileSync(join(ROOT, 'apps', app, 'Dockerfile'), 'utf8')).slice(1).map(Number);
const envOf = (c, name) => c.env?.find((e) => e.name === name);
const podLabels = (objects, app) => deployment(objects, app).spec.template.metadata.labels;
/** Selects the app's pods, and a canary of them too: name and component, never the track. */
const selectsAppAndCanary = (selector, objects, app) => {
  expect(Object.entries(selector).every(([k, v]) => podLabels(objects, app)[k] === v)).toBe(true);
  expect(selector).toEqual({ 'app.kubernetes.io/name': 'servable', 'app.kubernetes.io/component': app });
};

describe.skipIf(noKubectl)('Kubernetes manifests', () => {
  for (const [name, renderIt] of Object.entries(RENDERS)) {
    it(`${name}: renders, and every object matches its Kubernetes schema with no unknown field`, async () => {
      const objects = renderIt();
      expect(objects.length).toBeGreaterThan(10);
      const report = [];
      for (const object of objects) for (const p of await problems(object)) report.push(`${object.kind}/${object.metadata?.name}: ${p}`);
      expect(report).toEqual([]);
    });
  }

  it('notices a mistyped field (the check itself works)', async () => {
    const objects = render(join(HERE, 'base'));
    const broken = structuredClone(deployment(objects, 'inference'));
    const c = broken.spec.template.spec.containers[0];
    c.readinessProbes = c.readinessProbe;
    broken.spec.replicas = 'two';
    expect(await problems(broken)).toEqual(['/spec/replicas type {"type":"integer"}', '.spec.template.spec.containers[0].readinessProbes: unknown field']);
  });

  describe('base', () => {
    const objects = noKubectl ? [] : render(join(HERE, 'base'));

    it.each(['gateway', 'tokenizer', 'inference'])('%s: the image of this version, its ports, and the hardening the image allows', (app) => {
      const d = deployment(objects, app);
      const c = container(objects, app);
      expect(c.image).toBe(`servable-${app}:${VERSION}`);
      expect(c.ports.map((p) => p.containerPort).sort()).toEqual(exposed(app).sort());
      const pod = d.spec.template.spec;
      const [uid, gid] = dockerUser(app);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: uid, runAsGroup: gid });
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
      expect(c.resources.requests).toHaveProperty('cpu');
      expect(c.resources.limits).toHaveProperty('memory');
      expect(pod.topologySpreadConstraints.length).toBeGreaterThan(0);
      // Probes: liveness never depends on another process; readiness is /readyz; start-up covers loading.
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.startupProbe.httpGet.path).toBe('/healthz');
      const portNames = c.ports.map((p) => p.name);
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) expect(portNames).toContain(probe.httpGet.port);
      // Every writable path is a volume, since the root filesystem is read-only.
      const volumes = pod.volumes.map((v) => v.name);
      for (const m of c.volumeMounts) expect(volumes).toContain(m.name);
      expect(c.volumeMounts.map((m) => m.mountPath)).toContain('/tmp');
    });

    it("the gateway's PGlite directory (the image's SERVABLE_DATA_DIR) is a volume", () => {
      const dataDir = /SERVABLE_DATA_DIR=(\S+)/.exec(readFileSync(join(ROOT, 'apps/gateway/Dockerfile'), 'utf8'))[1];
      const mount = container(objects, 'gateway').volumeMounts.find((m) => m.mountPath === dataDir);
      expect(deployment(objects, 'gateway').spec.template.spec.volumes.find((v) => v.name === mount.name)).toEqual({ name: 'data', emptyDir: {} });
    });

    it('the grace period covers readiness going down plus the drain (and, for the gateway, closing PGlite)', () => {
      const config = find(objects, 'ConfigMap', 'servable-config').data;
      const grace = Number(config.SHUTDOWN_GRACE_MS) / 1000;
      const drain = Number(config.SHUTDOWN_DRAIN_MS) / 1000;
      const pgliteClose = 15; // libs/persistence pglite-server.ts: how long its close may take
      expect(deployment(objects, 'inference').spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(grace + drain);
      expect(deployment(objects, 'gateway').spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(grace + drain + pgliteClose);
      expect(deployment(objects, 'tokenizer').spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(grace);
    });

    it("the gateway's memory limit covers its largest upload", () => {
      // An upload is held in memory and loaded once (in a worker) to check it: a 131 MB model took
      // the gateway 841 MB over its idle use at the peak (6.4 times), 33 MB 175 MB.
      const upload = Number(find(objects, 'ConfigMap', 'servable-config').data.MAX_UPLOAD_BYTES);
      expect(upload).toBeGreaterThan(0);
      const idle = 300 * 1024 ** 2; // the benchmark's idle target on PGlite, the larger case
      expect(parseQuantity(container(objects, 'gateway').resources.limits.memory)).toBeGreaterThanOrEqual(idle + 6.5 * upload);
    });

    it('the gateway reaches every data-plane replica through headless Services', () => {
      const config = find(objects, 'ConfigMap', 'servable-config').data;
      for (const [app, key] of [['tokenizer', 'TOKENIZER_URL'], ['inference', 'INFERENCE_URL']]) {
        const service = find(objects, 'Service', `servable-${app}`);
        expect(service.spec.clusterIP).toBe('None');
        const grpc = service.spec.ports.find((p) => p.name === 'grpc');
        expect(config[key]).toBe(`servable-${app}:${grpc.port}`);
        selectsAppAndCanary(service.spec.selector, objects, app);
      }
      const gateway = find(objects, 'Service', 'servable-gateway');
      selectsAppAndCanary(gateway.spec.selector, objects, 'gateway');
      expect(gateway.spec.ports.map((p) => [p.name, p.port])).toEqual([['http', 8501], ['grpc', 8500]]);
    });

    it('only gateways reach the data-plane gRPC ports; probe and metrics ports stay open', () => {
      const gatewayPods = deployment(objects, 'gateway').spec.template.metadata.labels;
      for (const [app, grpcPort, metricsPort] of [['tokenizer', 50051, 9101], ['inference', 50052, 9102]]) {
        const policy = find(objects, 'NetworkPolicy', `servable-${app}`);
        selectsAppAndCanary(policy.spec.podSelector.matchLabels, objects, app);
        const grpcRule = policy.spec.ingress.find((r) => r.ports.some((p) => p.port === grpcPort));
        expect(grpcRule.from).toHaveLength(1);
        for (const [k, v] of Object.entries(grpcRule.from[0].podSelector.matchLabels)) expect(gatewayPods[k]).toBe(v);
        expect(grpcRule.from[0].podSelector.matchLabels['app.kubernetes.io/component']).toBe('gateway');
        const open = policy.spec.ingress.find((r) => r.ports.some((p) => p.port === metricsPort));
        expect(open.from).toBeUndefined();
      }
    });

    it('HPAs and disruption budgets point at the Deployments', () => {
      for (const app of ['tokenizer', 'inference']) {
        expect(find(objects, 'HorizontalPodAutoscaler', `servable-${app}`).spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: `servable-${app}` });
      }
      for (const app of ['gateway', 'tokenizer', 'inference']) {
        selectsAppAndCanary(find(objects, 'PodDisruptionBudget', `servable-${app}`).spec.selector.matchLabels, objects, app);
        // The Deployment's own selector names its track, so a canary Deployment never overlaps it.
        expect(deployment(objects, app).spec.selector.matchLabels.track).toBe('stable');
      }
    });
  });

  it("sets only variables the README's Configuration table documents (an unknown name would be ignored)", () => {
    const documented = new Set([...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]));
    // dev has no HPA for queue-autoscaling to extend.
    for (const [overlay, components] of [['overlays/dev', ['components/servicemonitor']], ['overlays/production', ['components/servicemonitor', 'components/queue-autoscaling']]]) {
      const objects = renderWith(overlay, components);
      const names = [
        ...Object.keys(find(objects, 'ConfigMap', 'servable-config').data),
        ...objects
          .filter((o) => o.kind === 'Deployment')
          .flatMap((d) => [...d.spec.template.spec.containers, ...(d.spec.template.spec.initContainers ?? [])])
          .flatMap((c) => (c.env ?? []).map((e) => e.name)),
      ];
      expect(names.filter((n) => !documented.has(n))).toEqual([]);
    }
  });

  it('dev: one replica each, no HPA, PGlite on a PersistentVolumeClaim', () => {
    const objects = render(join(HERE, 'overlays/dev'));
    for (const app of ['gateway', 'tokenizer', 'inference']) expect(deployment(objects, app).spec.replicas).toBe(1);
    expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')).toEqual([]);
    const gateway = deployment(objects, 'gateway');
    expect(gateway.spec.strategy).toEqual({ type: 'Recreate' }); // rollingUpdate with Recreate is refused by the API
    const data = gateway.spec.template.spec.volumes.find((v) => v.name === 'data');
    expect(data).toEqual({ name: 'data', persistentVolumeClaim: { claimName: 'servable-gateway-data' } });
    expect(find(objects, 'PersistentVolumeClaim', 'servable-gateway-data')).toBeDefined();
    expect(envOf(container(objects, 'gateway'), 'DATABASE_URL').valueFrom.secretKeyRef.optional).toBe(true);
    expect(new Set(objects.filter((o) => o.kind !== 'Namespace').map((o) => o.metadata.namespace))).toEqual(new Set(['servable-dev']));
    // PGlite's initdb runs in the gateway's container on the first start: near 900 MB with the gateway.
    expect(parseQuantity(gateway.spec.template.spec.containers[0].resources.limits.memory)).toBeGreaterThanOrEqual(1024 ** 3);
  });

  it('production: PostgreSQL, Redis and the admin key from the Secret, 2+ replicas, HPAs, a shared model repository', () => {
    const objects = render(join(HERE, 'overlays/production'));
    expect(deployment(objects, 'gateway').spec.replicas).toBeGreaterThanOrEqual(2);
    for (const app of ['tokenizer', 'inference']) {
      expect(find(objects, 'HorizontalPodAutoscaler', `servable-${app}`).spec.minReplicas).toBeGreaterThanOrEqual(2);
      // The HPA owns the count: a replicas field would reset it on every apply.
      expect(deployment(objects, app).spec.replicas).toBeUndefined();
    }
    const required = (app, key) => expect(envOf(container(objects, app), key).valueFrom.secretKeyRef).toEqual({ name: 'servable-secrets', key, optional: false });
    required('gateway', 'DATABASE_URL');
    required('gateway', 'SERVABLE_ADMIN_KEY');
    required('tokenizer', 'REDIS_URL');
    expect(find(objects, 'PersistentVolumeClaim', 'servable-models').spec.accessModes).toEqual(['ReadWriteMany']);
    for (const app of ['gateway', 'tokenizer', 'inference']) {
      const c = container(objects, app);
      expect(envOf(c, 'MODEL_REPOSITORY').value).toBe('/models');
      expect(c.volumeMounts.find((m) => m.mountPath === '/models').readOnly ?? false).toBe(app !== 'gateway');
    }
    const seed = deployment(objects, 'gateway').spec.template.spec.initContainers[0];
    expect(seed.image).toBe(`servable-gateway:${VERSION}`);
  });

  it('queue-autoscaling scales inference on CPU and on the queue metric inference serves', () => {
    const objects = renderWith('overlays/production', ['components/queue-autoscaling']);
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'servable-inference');
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.metrics.map((m) => m.type)).toEqual(['Resource', 'Pods']);
    const metric = hpa.spec.metrics[1].pods.metric.name;
    const served = readFileSync(join(ROOT, 'apps/inference/src/metrics/inference.metrics.ts'), 'utf8');
    expect(served).toContain(`name: '${metric}'`);
  });

  it('the ServiceMonitors select the Services and name ports they have', () => {
    const objects = renderWith('overlays/production', ['components/servicemonitor']);
    const services = objects.filter((o) => o.kind === 'Service');
    const monitors = objects.filter((o) => o.kind === 'ServiceMonitor');
    expect(monitors).toHaveLength(2);
    const matches = (selector, labels) =>
      Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
      (selector.matchExpressions ?? []).every((e) => e.operator === 'In' && e.values.includes(labels[e.key]));
    const scraped = new Set();
    for (const monitor of monitors) {
      for (const service of services.filter((s) => matches(monitor.spec.selector, s.metadata.labels))) {
        for (const endpoint of monitor.spec.endpoints) expect(service.spec.ports.map((p) => p.name)).toContain(endpoint.port);
        scraped.add(service.metadata.name);
      }
    }
    expect([...scraped].sort()).toEqual(['servable-gateway', 'servable-inference', 'servable-tokenizer']);
    // The job label is the Service's name unless jobLabel says otherwise; the alert rules and the
    // dashboard know the services by those job names.
    for (const monitor of monitors) expect(monitor.spec.jobLabel).toBeUndefined();
    const jobs = readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8');
    for (const name of scraped) expect(jobs).toContain(`job_name: ${name}`);
  });
});
