#!/usr/bin/env node
// The `servable` command: the admin API (docs/admin-api.md) from a terminal, and
// `import` for bringing your own TF.js model (docs/bring-your-own-model.md).
// Plain ESM on Node's parseArgs, so `npx servable` works right after `npm ci`.
import { parseArgs } from 'node:util';
import { AdminClient, ClientError } from './lib/client.mjs';
import { configPath, loadConfig, removeConfig, saveConfig } from './lib/config.mjs';
import { ImportError, importModel } from './lib/import.mjs';
import { uploadForm } from './lib/upload.mjs';

const HELP = `servable: manage a Servable platform through its admin API

Usage: servable <command> [options]

  login --url <url> --key <key>        check the key and store both in ${configPath()}
  logout                               forget the stored key
  whoami                               the stored key's role
  models list                          every model with its versions, states and labels
  models show <model>                  one model's versions in detail
  upload <dir> [--model m] [--tokenizer tokenizer.json]
                                       register the version folder <dir> (servable.json, model files)
  import <tfjs-model-dir> --tokenizer <tokenizer.json> --labels a,b --name <model> --out <dir>
         [--version 1] [--max-length n]
                                       turn a TF.js layers/graph model into a version folder
  labels set <model> <label>=<version|null>...
                                       move, add or remove labels (atomically)
  pin <model> <version> | unpin <model> <version>
                                       keep a version loaded, or release it
  rollout show <model>
  rollout set <model> [--stable v] [--canary v --weight 0..100 [--sticky | --no-sticky]]
                      [--shadow v --shadow-share 0..100] [--cohort header=value=version]...
                                       replace the whole rollout: what a flag does not name is removed
  rollout promote <model>              the canary becomes stable
  rollout rollback <model>             the canary is cleared; stable stays
  rollout clear <model>                remove the rollout
  canary start <model> <version> --steps 10,50,100 --step-seconds 60
               [--max-error-rate 0.01] [--max-p99-ratio 1.5] [--min-agreement 0.95] [--min-requests 100]
               [--p99-tolerance-ms 5] [--mirror-share 50] [--max-extensions 3] [--sticky | --no-sticky]
                                       an automated canary run (docs/canary.md); prints its id
  canary list <model> | canary show <model> <id>
  canary watch <model> <id>            follow a run's checks until it ends; exit 0 only if PROMOTED
  canary abort <model> <id>            send all traffic back to stable
  keys list
  keys create <name> --role admin|operator|client
  keys revoke <id>

Options: --json prints the API's JSON answer. SERVABLE_URL and SERVABLE_KEY override the login.
`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  url: { type: 'string' },
  key: { type: 'string' },
  model: { type: 'string' },
  tokenizer: { type: 'string' },
  labels: { type: 'string' },
  name: { type: 'string' },
  version: { type: 'string' },
  out: { type: 'string' },
  'max-length': { type: 'string' },
  stable: { type: 'string' },
  canary: { type: 'string' },
  weight: { type: 'string' },
  sticky: { type: 'boolean' },
  // The server defaults sticky to true, so off needs a flag of its own. Not parseArgs'
  // allowNegative: there the last of --sticky --no-sticky wins silently, and we refuse both.
  'no-sticky': { type: 'boolean' },
  shadow: { type: 'string' },
  'shadow-share': { type: 'string' },
  cohort: { type: 'string', multiple: true },
  steps: { type: 'string' },
  'step-seconds': { type: 'string' },
  'max-error-rate': { type: 'string' },
  'max-p99-ratio': { type: 'string' },
  'min-agreement': { type: 'string' },
  'min-requests': { type: 'string' },
  'p99-tolerance-ms': { type: 'string' },
  'mirror-share': { type: 'string' },
  'max-extensions': { type: 'string' },
  role: { type: 'string' },
};

class UsageError extends Error {}

function int(text, what) {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`${what} must be a whole number, got "${text}"`);
  return Number(text);
}

/** A share of traffic in percent: fractions are fine, as the admin API takes them. */
function percent(text, what) {
  if (text === undefined) return undefined;
  const n = /^(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 100)) throw new UsageError(`${what} must be a percent from 0 to 100, got "${text}"`);
  return n;
}

function need(value, what) {
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`);
  return value;
}

function table(rows, columns) {
  if (!rows.length) return '(none)';
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells) => cells.map((c, i) => String(c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => r[c])))].join('\n');
}

function versionRows(model) {
  return model.versions.map((v) => ({
    model: model.name,
    version: v.version,
    state: v.state,
    labels: v.labels.join(','),
    pinned: v.pinned ? 'yes' : '',
    tokenizer: v.tokenizerHash.slice(0, 12),
    framework: v.framework,
  }));
}

const WATCH_POLL_MS = 1_000;

/** --sticky / --no-sticky as the API's `sticky`; neither leaves it to the server (on). */
function stickyInput(values) {
  if (values.sticky && values['no-sticky']) throw new UsageError('--sticky and --no-sticky contradict each other: pass one');
  if (values['no-sticky']) return { sticky: false };
  return values.sticky ? { sticky: true } : {};
}

function canaryInput(canary, values) {
  const steps = need(values.steps, '--steps, e.g. 10,50,100')
    .split(',')
    .map((x) => {
      const step = percent(x.trim(), '--steps');
      if (step === 0) throw new UsageError('--steps must be above 0: a step at 0 % sends the canary nothing to judge');
      return step;
    });
  const num = (name, fallback) => {
    const v = values[name];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a number >= 0, got "${v}"`);
    return n;
  };
  return {
    canary,
    steps,
    stepSeconds: int(need(values['step-seconds'], '--step-seconds'), '--step-seconds'),
    gates: {
      maxErrorRate: num('max-error-rate', 0.01),
      maxP99Ratio: num('max-p99-ratio', 1.5),
      minAgreement: num('min-agreement', 0.95),
      minRequests: num('min-requests', 100),
      // Left to the server's defaults unless given (docs/canary.md).
      ...(values['p99-tolerance-ms'] !== undefined ? { p99ToleranceMs: num('p99-tolerance-ms') } : {}),
    },
    ...(values['mirror-share'] !== undefined ? { mirrorShare: percent(values['mirror-share'], '--mirror-share') } : {}),
    ...(values['max-extensions'] !== undefined ? { maxExtensions: int(values['max-extensions'], '--max-extensions') } : {}),
    ...stickyInput(values),
  };
}

const pct = (x) => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);
const ms = (x) => (x === null || x === undefined ? '-' : `${x.toFixed(1)} ms`);

function checkText(c) {
  return `step ${c.step + 1} at ${c.weight}%: ${c.passed ? 'passed' : c.extended ? 'extended' : 'FAILED'} (${c.reason}); canary ${c.requests} req, errors ${pct(c.errorRate)} vs ${pct(c.stableErrorRate)}, p99 ${ms(c.p99Ms)} vs ${ms(c.stableP99Ms)}, agreement ${pct(c.agreement)} over ${c.comparisons}`;
}

function canaryText(run) {
  const head = `canary run ${run.id}: ${run.model} v${run.canary} against v${run.stable}, ${run.state} at ${run.weight}% (steps ${run.steps.join(' → ')}, ${run.stepSeconds} s each)${run.reason ? `\n${run.reason}` : ''}`;
  return [head, ...run.checks.map(checkText)].join('\n');
}

function rolloutText(r) {
  if (!r) return 'no rollout: the "stable" label (or the newest version) serves';
  const parts = [`stable ${r.stableVersion ?? '-'}`];
  if (r.canary !== undefined) parts.push(`canary ${r.canary} at ${r.canaryWeight}%`);
  if (r.sticky) parts.push('sticky');
  if (r.shadow) parts.push(`shadow ${r.shadow.version} at ${r.shadow.share}%`);
  for (const c of r.cohortRules ?? []) parts.push(`${c.header}=${c.value} -> ${c.version}`);
  return `${r.model}: ${parts.join(', ')}`;
}

const ROLLOUT_FLAGS = ['stable', 'canary', 'weight', 'sticky', 'no-sticky', 'shadow', 'shadow-share', 'cohort'];

/**
 * The body of PUT .../rollout, which replaces the whole rollout: a flag left out clears its
 * part. So a flag that only makes sense beside another is refused alone rather than dropped,
 * since dropping it would PUT a rollout the user never asked for.
 */
function rolloutInput(values) {
  if (!ROLLOUT_FLAGS.some((f) => values[f] !== undefined)) {
    throw new UsageError('rollout set replaces the whole rollout: name it (--stable, --canary --weight, --shadow --shadow-share, --cohort); to remove it, use servable rollout clear <model>');
  }
  const alone = (flag, needs) => `${flag} needs ${needs}: rollout set replaces the whole rollout, so name every part you want to keep (see servable rollout show <model>)`;
  if (values.weight !== undefined && values.canary === undefined) throw new UsageError(alone('--weight', '--canary <version>'));
  if ((values.sticky || values['no-sticky']) && values.canary === undefined) throw new UsageError(alone(values.sticky ? '--sticky' : '--no-sticky', '--canary <version> --weight <percent>'));
  if (values['shadow-share'] !== undefined && values.shadow === undefined) throw new UsageError(alone('--shadow-share', '--shadow <version>'));
  // The API refuses a shadow without a share; defaulting it to 100 would double inference load unasked.
  if (values.shadow !== undefined && values['shadow-share'] === undefined) throw new UsageError('--shadow needs --shadow-share <percent>: the share of requests also sent to the shadow version');
  const input = {};
  if (values.stable !== undefined) input.stable = int(values.stable, '--stable');
  if (values.canary !== undefined) {
    input.canary = int(values.canary, '--canary');
    input.canaryWeight = percent(need(values.weight, '--weight (percent of traffic for the canary)'), '--weight');
  }
  Object.assign(input, stickyInput(values));
  if (values.shadow !== undefined) input.shadow = { version: int(values.shadow, '--shadow'), share: percent(values['shadow-share'], '--shadow-share') };
  if (values.cohort?.length) {
    input.cohortRules = values.cohort.map((c) => {
      const m = /^([^=]+)=([^=]*)=(\d+)$/.exec(c);
      if (!m) throw new UsageError(`--cohort must be header=value=version, got "${c}"`);
      return { header: m[1].toLowerCase(), value: m[2], version: Number(m[3]) };
    });
  }
  return input;
}

/**
 * parseArgs takes "--weight -5" for a flag without its value followed by an option; no option
 * of ours looks like a number, so a negative number is the value (then refused with the
 * flag's own range message).
 */
function joinNegativeValues(argv) {
  const args = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') return [...args, ...argv.slice(i)];
    const name = /^--([\w-]+)$/.exec(argv[i])?.[1];
    if (OPTIONS[name]?.type === 'string' && /^-(\d|\.\d)/.test(argv[i + 1] ?? '')) args.push(`${argv[i]}=${argv[++i]}`);
    else args.push(argv[i]);
  }
  return args;
}

function parse(argv) {
  try {
    return parseArgs({ args: joinNegativeValues(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    if (err?.code?.startsWith('ERR_PARSE_ARGS')) throw new UsageError(oneLine(err.message));
    throw err;
  }
}

const oneLine = (text) => String(text).replace(/\s*\n\s*/g, ' ');

/** Runs one command line; returns what to print. Exported for tests. */
export async function run(argv, env = process.env) {
  const { values, positionals } = parse(argv);
  const [command, sub, ...rest] = positionals;
  if (values.help || !command || command === 'help') return HELP;
  const out = (json, text) => (values.json ? JSON.stringify(json, null, 2) : text());

  if (command === 'import') {
    const { outDir, manifest } = await importModel({
      modelDir: need(sub, 'the TF.js model folder'),
      tokenizerPath: need(values.tokenizer, '--tokenizer <tokenizer.json>'),
      labels: need(values.labels, '--labels a,b').split(',').map((l) => l.trim()).filter(Boolean),
      name: need(values.name, '--name <model>'),
      version: int(values.version ?? '1', '--version'),
      outDir: need(values.out, '--out <dir>'),
      maxLength: int(values['max-length'], '--max-length'),
    });
    return out(manifest, () => `wrote ${manifest.name} version ${manifest.version} (${manifest.framework}, tokenizer ${manifest.tokenizer.hash.slice(0, 12)}) to ${outDir}\nnext: servable upload ${outDir}`);
  }
  if (command === 'logout') {
    removeConfig(env);
    return 'logged out';
  }

  const config = loadConfig(env);
  if (command === 'login') {
    const client = new AdminClient({ url: values.url ?? config.url, key: need(values.key ?? env.SERVABLE_KEY, '--key <api key>') });
    const session = await client.session();
    if (session.auth === 'on' && !session.role) throw new UsageError('the gateway did not accept the key');
    const path = saveConfig({ url: client.url, key: client.key }, env);
    return out(session, () => `logged in to ${client.url} as ${session.key?.name ?? 'anonymous'} (${session.role}); saved in ${path}`);
  }

  const client = new AdminClient(config);
  switch (command) {
    case 'whoami': {
      const s = await client.session();
      return out(s, () => (s.auth === 'off' ? `${client.url}: auth is off (dev mode), every caller is admin` : s.role ? `${client.url}: ${s.key.name} (${s.role})` : `${client.url}: not logged in`));
    }
    case 'models': {
      if (sub === 'list' || sub === undefined) {
        const models = await client.models();
        return out(models, () => table(models.flatMap(versionRows), ['model', 'version', 'state', 'labels', 'pinned', 'tokenizer', 'framework']));
      }
      if (sub === 'show') {
        const model = await client.model(need(rest[0], 'the model name'));
        const { rollout } = await client.rollout(model.name);
        return out({ ...model, rollout }, () => `${table(versionRows(model), ['version', 'state', 'labels', 'pinned', 'tokenizer', 'framework'])}\n\n${rolloutText(rollout)}`);
      }
      break;
    }
    case 'upload': {
      const { form, manifest, files } = uploadForm(need(sub, 'the version folder'), values.tokenizer);
      const model = values.model ?? manifest.name;
      const version = await client.upload(model, form);
      return out(version, () => `registered ${version.model} version ${version.version} (${files.length} files); state ${version.state}`);
    }
    case 'labels': {
      if (sub !== 'set') break;
      const model = need(rest[0], 'the model name');
      const pairs = rest.slice(1);
      if (!pairs.length) throw new UsageError('name at least one label=version (or label=null to remove it)');
      const labels = Object.fromEntries(
        pairs.map((p) => {
          const m = /^([^=]+)=(\d+|null)$/.exec(p);
          if (!m) throw new UsageError(`labels are label=version or label=null, got "${p}"`);
          return [m[1], m[2] === 'null' ? null : Number(m[2])];
        }),
      );
      const view = await client.setLabels(model, labels);
      return out(view, () => `${view.name}: ${Object.entries(view.labels).map(([l, v]) => `${l}=${v}`).join(', ') || 'no labels'}`);
    }
    case 'pin':
    case 'unpin': {
      const view = await client.setPinned(need(sub, 'the model name'), int(need(rest[0], 'the version'), 'version'), command === 'pin');
      return out(view, () => `${view.model} version ${view.version}: ${view.pinned ? 'pinned' : 'not pinned'} (${view.state})`);
    }
    case 'rollout': {
      const model = need(rest[0], 'the model name');
      if (sub === 'show') {
        const { rollout } = await client.rollout(model);
        return out(rollout, () => rolloutText(rollout));
      }
      if (sub === 'set') {
        const r = await client.setRollout(model, rolloutInput(values));
        return out(r, () => rolloutText(r));
      }
      if (sub === 'promote') {
        const r = await client.promote(model);
        return out(r, () => `promoted: ${rolloutText(r)}`);
      }
      if (sub === 'rollback') {
        const r = await client.rollback(model);
        return out(r, () => `rolled back: ${rolloutText(r)}`);
      }
      if (sub === 'clear') {
        await client.clearRollout(model);
        return out({}, () => `${model}: rollout cleared`);
      }
      break;
    }
    case 'canary': {
      const model = need(rest[0], 'the model name');
      if (sub === 'start') {
        const run = await client.startCanary(model, canaryInput(int(need(rest[1], 'the canary version'), 'version'), values));
        return out(run, () => `canary run ${run.id}: ${run.model} v${run.canary} against stable v${run.stable}, steps ${run.steps.join(' → ')} % every ${run.stepSeconds} s\nfollow it: servable canary watch ${run.model} ${run.id}`);
      }
      if (sub === 'list') {
        const runs = await client.canaryRuns(model);
        return out(runs, () => table(runs.map((r) => ({ ...r, checks: r.checks.length })), ['id', 'canary', 'stable', 'state', 'weight', 'checks', 'startedAt', 'finishedAt']));
      }
      if (sub === 'show') {
        const run = await client.canaryRun(model, need(rest[1], 'the run id'));
        return out(run, () => canaryText(run));
      }
      if (sub === 'abort') {
        const run = await client.abortCanary(model, need(rest[1], 'the run id'));
        return out(run, () => `canary run ${run.id}: ${run.state}; all traffic on stable v${run.stable}`);
      }
      if (sub === 'watch') {
        const id = need(rest[1], 'the run id');
        let printed = 0;
        for (;;) {
          const run = await client.canaryRun(model, id);
          if (!values.json) for (const c of run.checks.slice(printed)) console.log(checkText(c));
          printed = run.checks.length;
          if (run.state !== 'RUNNING') {
            if (run.state !== 'PROMOTED') process.exitCode = 1;
            return out(run, () => `canary run ${run.id}: ${run.state}${run.reason ? ` (${run.reason})` : ''}`);
          }
          await new Promise((r) => setTimeout(r, WATCH_POLL_MS));
        }
      }
      break;
    }
    case 'keys': {
      if (sub === 'list' || sub === undefined) {
        const keys = await client.keys();
        return out(keys, () => table(keys, ['id', 'name', 'role', 'prefix', 'createdAt', 'revokedAt']));
      }
      if (sub === 'create') {
        const created = await client.createKey(need(rest[0], 'the key name'), need(values.role, '--role admin|operator|client'));
        return out(created, () => `${created.key}\n(key ${created.apiKey.id}, ${created.apiKey.role}: shown this once, store it now)`);
      }
      if (sub === 'revoke') {
        const key = await client.revokeKey(need(rest[0], 'the key id'));
        return out(key, () => `revoked key ${key.id} (${key.name})`);
      }
      break;
    }
  }
  throw new UsageError(`unknown command "${[command, sub].filter(Boolean).join(' ')}"; see servable --help`);
}

/**
 * The exit code of an error the user can act on (docs/cli.md: 2 bad usage, 1 refused by the
 * API, the model or the machine), or undefined for a bug of ours, which keeps its stack.
 */
function exitCodeOf(err) {
  if (err instanceof UsageError) return 2;
  if (err instanceof ClientError || err instanceof ImportError) return 1;
  // ENOENT, EACCES, ENOSPC...: a file or folder the user named, not a bug.
  if (typeof err?.syscall === 'string') return 1;
  return undefined;
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${(await import('node:fs')).realpathSync(process.argv[1])}`).href;
if (isMain) {
  try {
    console.log(await run(process.argv.slice(2)));
  } catch (err) {
    const code = exitCodeOf(err);
    console.error(`servable: ${code === undefined ? err?.stack ?? err : oneLine(err.message)}`);
    process.exit(code ?? 1);
  }
}
