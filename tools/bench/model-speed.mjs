#!/usr/bin/env node
// npm run bench -- model-speed: v1 against v2 per batch of 32, in-process on WASM.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root } from './_support.mjs';

const build = spawnSync('npx', ['nx', 'build', 'train', '--outputStyle=static'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (build.status !== 0) process.exit(build.status ?? 1);
const run = spawnSync(process.execPath, [join(root, 'dist/tools/train/model-speed.js'), process.argv[2] ?? join(root, 'models')], { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
