import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './_support.mjs';

// An A/B comparison refuses a baseline it could not run before it builds or starts anything: a
// baseline that failed to start would otherwise show up as a service that never got ready.
describe.each([
  ['gateway-ab', 'gateway'],
  ['inference-ab', 'inference'],
])('npm run bench -- %s', (tool, app) => {
  const run = (args, env = {}) => spawnSync(process.execPath, [join(root, `tools/bench/${tool}.mjs`), ...args], { encoding: 'utf8', env: { ...process.env, BENCH_ENV_A: '', BENCH_ENV_B: '', ...env } });

  it('needs a baseline build or two environments to compare', () => {
    const r = run([]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('nothing to compare: no baseline build, and the same environment on both sides');
    expect(r.stderr).toContain(`usage: npm run bench -- ${tool} [baseline build: a copy of dist/apps/${app}`);
  });

  it('refuses an environment that is not a JSON object of strings', () => {
    expect(run([], { BENCH_ENV_B: 'LOG_LEVEL=warn' }).stderr).toContain('BENCH_ENV_B is not JSON: LOG_LEVEL=warn');
    expect(run([], { BENCH_ENV_B: '{"GATEWAY_TOKEN_CACHE_BYTES":0}' }).stderr).toContain('BENCH_ENV_B must be a JSON object of strings');
  });

  it('refuses a folder without main.js, and a build outside the repository, with why', () => {
    const outside = mkdtempSync(join(tmpdir(), 'servable-ab-spec-'));
    try {
      const empty = run([outside]);
      expect(empty.status).not.toBe(0);
      expect(empty.stderr).toContain('holds no main.js');
      const script = join(outside, 'main.js');
      spawnSync('touch', [script]);
      const away = run([outside]);
      expect(away.status).not.toBe(0);
      expect(away.stderr).toContain('outside the repository, where the build cannot find node_modules');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
