#!/usr/bin/env node
// `npm run bench -- <name>` runs tools/bench/<name>.mjs; without a name it lists them.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && !f.startsWith('_'))
  .map((f) => f.slice(0, -4));
const name = process.argv[2];
if (!name || !existsSync(join(here, `${name}.mjs`))) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [args]`);
  process.exit(name ? 2 : 0);
}
const result = spawnSync(process.execPath, [join(here, `${name}.mjs`), ...process.argv.slice(3)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
