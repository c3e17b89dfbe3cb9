#!/usr/bin/env node
// `npm start`: builds what changed (through Nx's cache), then runs tokenizer, inference and
// gateway together on the embedded defaults. Each child's log lines are
// prefixed with its name; Ctrl-C, or any child dying, stops them all.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, Service, appMain, buildApps, logPrefix } from './services.mjs';

const env = { ...process.env };
const port = (name, fallback) => env[name] ?? String(fallback);

// The data plane has no authentication of its own (the gateway checks keys; Kubernetes keeps it
// behind a NetworkPolicy), and here the gateway reaches it over 127.0.0.1: bound to 0.0.0.0, anyone
// on the network could call inference's UnloadModel.
const services = [
  {
    name: 'tokenizer',
    color: 36,
    env: { TOKENIZER_GRPC_URL: env.TOKENIZER_GRPC_URL ?? `127.0.0.1:${port('TOKENIZER_PORT', 50051)}` },
    readyUrl: `http://127.0.0.1:${port('TOKENIZER_HTTP_PORT', 9101)}/readyz`,
    banner: () => `gRPC ${env.TOKENIZER_GRPC_URL ?? `localhost:${port('TOKENIZER_PORT', 50051)}`}, probes http://localhost:${port('TOKENIZER_HTTP_PORT', 9101)}/readyz`,
  },
  {
    name: 'inference',
    color: 35,
    env: { INFERENCE_GRPC_URL: env.INFERENCE_GRPC_URL ?? `127.0.0.1:${port('INFERENCE_PORT', 50052)}` },
    readyUrl: `http://127.0.0.1:${port('INFERENCE_HTTP_PORT', 9102)}/readyz`,
    banner: () => `gRPC ${env.INFERENCE_GRPC_URL ?? `localhost:${port('INFERENCE_PORT', 50052)}`}, probes http://localhost:${port('INFERENCE_HTTP_PORT', 9102)}/readyz`,
  },
  {
    name: 'gateway',
    color: 33,
    env: {
      TOKENIZER_URL: env.TOKENIZER_URL ?? `127.0.0.1:${port('TOKENIZER_PORT', 50051)}`,
      INFERENCE_URL: env.INFERENCE_URL ?? `127.0.0.1:${port('INFERENCE_PORT', 50052)}`,
    },
    readyUrl: `http://127.0.0.1:${port('GATEWAY_HTTP_PORT', 8501)}/readyz`,
    banner: () => {
      const http = `http://localhost:${port('GATEWAY_HTTP_PORT', 8501)}`;
      return `REST ${http}, gRPC localhost:${(env.GATEWAY_GRPC_URL ?? ':8500').split(':').pop()}, console ${http}/admin, OpenAPI ${http}/docs`;
    },
  },
];

const apps = ['tokenizer', 'inference', 'gateway', 'admin'];
// Every start goes through Nx, so a stale dist/ never runs old code after a pull or an edit: what is
// unchanged comes from Nx's cache in a few seconds. --no-build runs dist/ as it is (it must exist).
const missing = apps.filter((a) => !existsSync(a === 'admin' ? join(ROOT, 'dist/apps/admin/index.html') : appMain(a)));
if (!process.argv.includes('--no-build') || missing.length > 0) {
  console.log(`servable: building ${apps.join(', ')} (Nx rebuilds only what changed)`);
  try {
    buildApps(apps);
  } catch {
    console.error('servable: build failed');
    process.exit(1);
  }
}

const running = [];
let stopping = false;

// SIGINT stops a service without SHUTDOWN_GRACE_MS (nothing routes around a laptop's services);
// a SIGTERM the launcher itself gets is passed on as it is, grace included.
async function stopAll(code, signal = 'SIGINT') {
  if (stopping) return;
  stopping = true;
  await Promise.all(running.map((s) => s.stop({ signal, graceMs: 10_000 })));
  process.exit(code);
}

for (const spec of services) {
  const prefix = logPrefix(spec.name, spec.color);
  const service = new Service({
    name: spec.name,
    app: spec.name,
    nodeArgs: ['--enable-source-maps'],
    env: spec.env,
    readyUrl: spec.readyUrl,
    output: { line: (text) => console.log(`${prefix} ${text}`) },
  });
  service.spawn();
  running.push(service);
  void service.exited().then((how) => {
    if (stopping) return;
    console.error(`${prefix} exited (${how.signal ?? `code ${how.code}`}); stopping the others`);
    void stopAll(how.code || 1);
  });
  console.log(`${prefix} ${spec.banner()}`);
}

process.on('SIGINT', () => void stopAll(0, 'SIGINT'));
process.on('SIGTERM', () => void stopAll(0, 'SIGTERM'));

// The same /readyz a Kubernetes probe reads: one line once all three serve.
Promise.all(running.map((s) => s.waitReady(600_000))).then(
  () => !stopping && console.log(`servable: ready (console http://localhost:${port('GATEWAY_HTTP_PORT', 8501)}/admin)`),
  () => undefined,
);
