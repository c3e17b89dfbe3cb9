#!/usr/bin/env node
// `npm run bench` runs the serving benchmarks one after another (tokenizer, inference, gateway),
// each writing tools/bench/results/<name>.json and regenerating docs/benchmarks.md.
// `npm run bench -- <name> [args]` runs tools/bench/<name>.mjs alone (model-speed only this way).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_NODE_ARGS } from '../launcher/services.mjs';

const SERVING = ['tokenizer', 'inference', 'gateway'];
const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && !f.startsWith('_') && !f.endsWith('.spec.mjs') && !f.endsWith('-server.mjs') && f !== 'eslint.config.mjs')
  .map((f) => f.slice(0, -4));
const name = process.argv[2];
if (name === '--help' || name === '-h' || (name && !existsSync(join(here, `${name}.mjs`)))) {
  console.error(`usage: npm run bench [-- <${available.join('|')}> [args]]\nwithout a name: ${SERVING.join(', ')}, one after another`);
  process.exit(name === '--help' || name === '-h' ? 0 : 2);
}
// The inference and gateway benchmarks run inference's batcher and worker threads in their own
// process (the in-process baselines), so they run with inference's V8 flags: the baseline
// collects its garbage the way the service does.
const NODE_ARGS = { inference: APP_NODE_ARGS.inference, gateway: APP_NODE_ARGS.inference };
const run = (bench, args = []) => spawnSync(process.execPath, [...(NODE_ARGS[bench] ?? []), join(here, `${bench}.mjs`), ...args], { stdio: 'inherit' }).status ?? 1;
if (name) process.exit(run(name, process.argv.slice(3)));
for (const bench of SERVING) {
  console.log(`\n=== npm run bench -- ${bench}\n`);
  const status = run(bench);
  if (status !== 0) process.exit(status);
}
