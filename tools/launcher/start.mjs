#!/usr/bin/env node
// `npm start`: builds what changed (through Nx's cache), then runs tokenizer, inference and
// gateway together on the embedded defaults. Each child's log lines are
// prefixed with its name; Ctrl-C, or any child dying, stops them all.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const env = { ...process.env };
const port = (name, fallback) => env[name] ?? String(fallback);

const services = [
  {
    name: 'tokenizer',
    color: 36,
    env: { TOKENIZER_GRPC_URL: env.TOKENIZER_GRPC_URL ?? `0.0.0.0:${port('TOKENIZER_PORT', 50051)}` },
    banner: () => `gRPC ${env.TOKENIZER_GRPC_URL ?? `localhost:${port('TOKENIZER_PORT', 50051)}`}, probes http://localhost:${port('TOKENIZER_HTTP_PORT', 9101)}/readyz`,
  },
  {
    name: 'inference',
    color: 35,
    env: { INFERENCE_GRPC_URL: env.INFERENCE_GRPC_URL ?? `0.0.0.0:${port('INFERENCE_PORT', 50052)}` },
    banner: () => `gRPC ${env.INFERENCE_GRPC_URL ?? `localhost:${port('INFERENCE_PORT', 50052)}`}, probes http://localhost:${port('INFERENCE_HTTP_PORT', 9102)}/readyz`,
  },
  {
    name: 'gateway',
    color: 33,
    env: {
      TOKENIZER_URL: env.TOKENIZER_URL ?? `127.0.0.1:${port('TOKENIZER_PORT', 50051)}`,
      INFERENCE_URL: env.INFERENCE_URL ?? `127.0.0.1:${port('INFERENCE_PORT', 50052)}`,
    },
    banner: () => {
      const http = `http://localhost:${port('GATEWAY_HTTP_PORT', 8501)}`;
      return `REST ${http}, gRPC localhost:${(env.GATEWAY_GRPC_URL ?? ':8500').split(':').pop()}, console ${http}/admin, OpenAPI ${http}/docs`;
    },
  },
];

const apps = ['tokenizer', 'inference', 'gateway', 'admin'];
// Every start goes through Nx, so a stale dist/ never runs old code after a pull or an edit: what is
// unchanged comes from Nx's cache in a few seconds. --no-build runs dist/ as it is (it must exist).
const missing = apps.filter((a) => !existsSync(join(root, 'dist/apps', a, a === 'admin' ? 'index.html' : 'main.js')));
if (!process.argv.includes('--no-build') || missing.length > 0) {
  console.log(`servable: building ${apps.join(', ')} (Nx rebuilds only what changed)`);
  const build = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '-p', ...apps, '--outputStyle=static'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (build.status !== 0) {
    console.error('servable: build failed');
    process.exit(build.status ?? 1);
  }
}

const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const colorize = (code, text) => (process.stdout.isTTY ? `\x1b[${code}m${text}\x1b[0m` : text);

/** pino lines become "LEVEL context: message"; anything else is passed through. */
function render(line) {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line);
    const { level, msg, context, time, pid, hostname, service, name, ...rest } = entry;
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    return `${LEVELS[level] ?? level} ${context ? `${context}: ` : ''}${msg ?? ''}${extra}`;
  } catch {
    return line;
  }
}

const children = new Map();
let stopping = false;

// SIGINT stops a service without SHUTDOWN_GRACE_MS (nothing routes around a laptop's services);
// a SIGTERM the launcher itself gets is passed on as it is, grace included.
function stopAll(code, signal = 'SIGINT') {
  if (stopping) return;
  stopping = true;
  for (const child of children.values()) if (child.exitCode === null) child.kill(signal);
  const force = setTimeout(() => {
    for (const child of children.values()) if (child.exitCode === null) child.kill('SIGKILL');
  }, 10_000);
  force.unref();
  const wait = [...children.values()].map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r))));
  Promise.all(wait).then(() => process.exit(code));
}

for (const service of services) {
  const prefix = colorize(service.color, `[${service.name}]`.padEnd(12));
  const child = spawn(process.execPath, ['--enable-source-maps', join(root, 'dist/apps', service.name, 'main.js')], {
    cwd: root,
    env: { ...env, ...service.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.set(service.name, child);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => console.log(`${prefix} ${render(line)}`));
  }
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`${prefix} exited (${signal ?? `code ${code}`}); stopping the others`);
    stopAll(code || 1);
  });
  console.log(`${prefix} ${service.banner()}`);
}

process.on('SIGINT', () => stopAll(0, 'SIGINT'));
process.on('SIGTERM', () => stopAll(0, 'SIGTERM'));
