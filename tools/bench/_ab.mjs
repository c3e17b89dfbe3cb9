// What the A/B comparisons (gateway-ab.mjs, inference-ab.mjs) share: their arguments (a baseline
// build of the app, each side's environment, the windows and the results name), checked before
// anything is built or started, and the medians they judge by.
import { existsSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { root } from './_support.mjs';

/** A side's environment overrides: a JSON object of strings. */
function sideEnv(name) {
  const raw = process.env[name];
  if (!raw) return {};
  let env;
  try {
    env = JSON.parse(raw);
  } catch {
    throw new Error(`${name} is not JSON: ${raw}`);
  }
  if (typeof env !== 'object' || env === null || Array.isArray(env) || Object.values(env).some((v) => typeof v !== 'string')) {
    throw new Error(`${name} must be a JSON object of strings, as an environment is: ${raw}`);
  }
  return env;
}

/**
 * The comparison `tool` of `app` as the command line and environment ask for it: `baseline`, A's
 * main.js (undefined: this tree's build on both sides), `envs` per side (BENCH_ENV_A/B), `windows`
 * per start order (BENCH_WINDOWS), `name` of the results file (BENCH_AB_NAME), and a `describe`
 * of each side. Throws with the usage when there is nothing to compare or a baseline cannot run.
 */
export function abSetup(tool, app) {
  const usage = `usage: npm run bench -- ${tool} [baseline build: a copy of dist/apps/${app} under the repository], with BENCH_ENV_A / BENCH_ENV_B (JSON) to set either side's environment`;
  const envs = { A: sideEnv('BENCH_ENV_A'), B: sideEnv('BENCH_ENV_B') };
  const baselineArg = process.argv[2];
  let baseline;
  if (baselineArg) {
    const dir = resolve(baselineArg);
    baseline = statSync(dir, { throwIfNoEntry: false })?.isDirectory() ? join(dir, 'main.js') : dir;
    if (!existsSync(baseline)) throw new Error(`${baselineArg} holds no main.js. ${usage}`);
    // Node resolves the bundle's packages from node_modules in a folder above it.
    if (relative(root, baseline).startsWith('..')) throw new Error(`${baselineArg} is outside the repository, where the build cannot find node_modules. ${usage}`);
  } else if (JSON.stringify(envs.A) === JSON.stringify(envs.B)) {
    throw new Error(`nothing to compare: no baseline build, and the same environment on both sides. ${usage}`);
  }
  const name = process.env.BENCH_AB_NAME;
  if (name !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`BENCH_AB_NAME names a results file: lower-case letters, digits and dashes, not ${JSON.stringify(name)}`);
  const windows = Number(process.env.BENCH_WINDOWS ?? 5);
  if (!Number.isInteger(windows) || windows < 1) throw new Error(`BENCH_WINDOWS is a count of windows per start order, not ${process.env.BENCH_WINDOWS}`);
  const scripts = { A: baseline, B: undefined };
  const describe = (side) =>
    `${side} ${scripts[side] ? relative(root, scripts[side]) : `dist/apps/${app}`}${Object.keys(envs[side]).length ? ` with ${JSON.stringify(envs[side])}` : ''}`;
  return { baseline, scripts, envs, name, windows, describe };
}

/** The lower middle of `values`' order: a median that is one window's own. */
export const middleIndex = (values) => values.indexOf([...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]);

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const k = sorted.length >> 1;
  return sorted.length % 2 ? sorted[k] : (sorted[k - 1] + sorted[k]) / 2;
};
