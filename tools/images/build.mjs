#!/usr/bin/env node
// `npm run images`: builds the apps, then servable-{gateway,tokenizer,inference}:<version>
// from apps/<app>/Dockerfile with docker (where a daemon answers) or podman.
//
//   BASE_IMAGE=<ref>            base for both stages (default node:20-bookworm-slim; when that
//                               is neither local nor pullable, a local Debian + Node 20 base)
//   npm run images -- gateway   only the named apps
//   --skip-build                use dist/ as it is
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { APPS, ROOT, VERSION, detectEngine, imageExists, imageName, inspectImage } from './engine.mjs';
import { LOCAL_BASE, buildLocalBase } from './base.mjs';

const DEFAULT_BASE = 'node:20-bookworm-slim';
const args = process.argv.slice(2);
const apps = args.filter((a) => !a.startsWith('-'));
for (const app of apps) if (!APPS.includes(app)) fail(`unknown app "${app}"; one of ${APPS.join(', ')}`);
const selected = apps.length ? apps : APPS;

function fail(message) {
  console.error(`images: ${message}`);
  process.exit(1);
}

function step(cmd, cmdArgs, options = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: ROOT, stdio: 'inherit', ...options });
  if (r.status !== 0) fail(`${cmd} ${cmdArgs.slice(0, 3).join(' ')} … failed (${r.error?.message ?? `exit ${r.status}`})`);
}

const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1);

const engine = detectEngine();
if (!engine) fail('neither a docker daemon nor podman is available (apt-get install podman)');
// Buildah's default OCI isolation needs a runtime that can create cgroups; chroot isolation runs
// RUN steps where that is refused (containers inside containers, as in CI), and works elsewhere too.
const isolation = engine === 'podman' ? [`--isolation=${process.env.SERVABLE_BUILD_ISOLATION ?? 'chroot'}`] : [];

if (!args.includes('--skip-build')) {
  const projects = [...new Set([...selected, ...(selected.includes('gateway') ? ['admin'] : [])])];
  const t = Date.now();
  step('npx', ['nx', 'run-many', '-t', 'build', '-p', ...projects, '--outputStyle=static']);
  console.log(`images: built ${projects.join(', ')} in ${seconds(t)} s`);
}

/** The base image: BASE_IMAGE if given; else node:20-bookworm-slim, local or pulled; else the local Debian base. */
function resolveBase() {
  if (process.env.BASE_IMAGE) return process.env.BASE_IMAGE;
  if (imageExists(engine, DEFAULT_BASE)) return DEFAULT_BASE;
  if (imageExists(engine, LOCAL_BASE)) {
    console.log(`images: using the local base ${LOCAL_BASE} (built earlier)`);
    return LOCAL_BASE;
  }
  const pull = spawnSync(engine, ['pull', `docker.io/library/${DEFAULT_BASE}`], { stdio: 'ignore', timeout: 120_000 });
  if (pull.status === 0) return DEFAULT_BASE;
  console.log(`images: ${DEFAULT_BASE} is not available and cannot be pulled; building ${LOCAL_BASE}`);
  const t = Date.now();
  const base = buildLocalBase(engine, (line) => console.log(`images: ${line}`));
  console.log(`images: local base (${base.node}) in ${seconds(t)} s, ${mb(inspectImage(engine, LOCAL_BASE).size)}`);
  return LOCAL_BASE;
}

const mb = (bytes) => `${(bytes / 1e6).toFixed(0)} MB`;
/**
 * The CA bundle npm trusts on this machine (NODE_EXTRA_CA_CERTS, else npm's cafile), handed to the
 * build as the npm_ca secret: behind a TLS-inspecting proxy, npm ci inside the build needs it.
 */
function caSecret() {
  const cafile = spawnSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' }).stdout?.trim();
  const file = [process.env.NODE_EXTRA_CA_CERTS, cafile].find((f) => f && f !== 'null' && f !== 'undefined' && existsSync(f));
  return file ? ['--secret', `id=npm_ca,src=${file}`] : [];
}

const git = (gitArgs) => spawnSync('git', gitArgs, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() || '';

const base = resolveBase();
const labels = {
  VERSION,
  REVISION: git(['rev-parse', 'HEAD']) || 'unknown',
  CREATED: new Date().toISOString(),
  SOURCE: git(['remote', 'get-url', 'origin']),
};
for (const app of selected) {
  statSync(join(ROOT, 'dist/apps', app, 'package-lock.json')); // generatePackageJson's output; a clear ENOENT beats a COPY error
  const t = Date.now();
  const buildArgs = Object.entries({ BASE_IMAGE: base, ...labels }).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
  step(engine, ['build', ...isolation, ...caSecret(), '-f', `apps/${app}/Dockerfile`, ...buildArgs, '-t', imageName(app), '.']);
  console.log(`images: ${imageName(app)} in ${seconds(t)} s, ${mb(inspectImage(engine, imageName(app)).size)}`);
}
console.log(`images: done (${engine}, base ${base})`);
for (const app of selected) console.log(`  ${imageName(app).padEnd(32)} ${mb(inspectImage(engine, imageName(app)).size)}`);
