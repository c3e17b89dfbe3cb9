import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, saveConfig } from './lib/config.mjs';
import { tokenizerFacts } from './lib/import.mjs';
import { uploadForm } from './lib/upload.mjs';
import { run } from './servable.mjs';

const TOKENIZERS = join(import.meta.dirname, '../../models/tokenizers');
const SPAM_V1 = join(import.meta.dirname, '../../models/spam/1');
const dir = mkdtempSync(join(tmpdir(), 'servable-cli-unit-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tokenizerFile = () => join(TOKENIZERS, readdirSync(TOKENIZERS).find((f) => f.endsWith('.json')));

/** An admin API that records each call and answers every one with `answer(call)`. */
async function fakeAdminApi(answer) {
  const seen = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const call = { method: req.method, url: req.url, body: body ? JSON.parse(body) : undefined };
      seen.push(call);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer(call)));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const env = { SERVABLE_CONFIG_DIR: dir, SERVABLE_URL: `http://127.0.0.1:${server.address().port}`, SERVABLE_KEY: 'svb_cli_test' };
  return { seen, env, close: () => new Promise((r) => server.close(r)) };
}

/** The command as a user runs it: its exit code and what it wrote to stderr. */
function servable(...args) {
  const r = spawnSync(process.execPath, [join(import.meta.dirname, 'servable.mjs'), ...args], { env: { ...process.env, SERVABLE_CONFIG_DIR: dir, SERVABLE_URL: 'http://127.0.0.1:9' }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('servable CLI pieces', () => {
  it('reads a HuggingFace tokenizer.json: its sha256, vocabulary size and pad id', () => {
    const file = readdirSync(TOKENIZERS).find((f) => f.endsWith('.json'));
    const facts = tokenizerFacts(readFileSync(join(TOKENIZERS, file)));
    expect(facts.hash).toBe(file.replace(/\.json$/, ''));
    const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '../../models/spam/1/servable.json'), 'utf8'));
    expect(facts.vocabSize).toBe(manifest.tokenizer.vocab_size);
    expect(facts.padId).toBe(manifest.tokenizer.pad_id);
  });

  it('keeps the login in its config file, and lets SERVABLE_URL / SERVABLE_KEY override it', () => {
    const env = { SERVABLE_CONFIG_DIR: dir };
    saveConfig({ url: 'http://gw:8501', key: 'svb_stored' }, env);
    expect(loadConfig(env)).toEqual({ url: 'http://gw:8501', key: 'svb_stored' });
    expect(loadConfig({ ...env, SERVABLE_KEY: 'svb_env' })).toEqual({ url: 'http://gw:8501', key: 'svb_env' });
  });

  it('explains bad usage before calling anything', async () => {
    const env = { SERVABLE_CONFIG_DIR: dir };
    expect(await run(['--help'], env)).toMatch(/servable <command>/);
    await expect(run(['labels', 'set', 'spam', 'stable=two'], env)).rejects.toThrow(/label=version or label=null/);
    await expect(run(['rollout', 'set', 'spam', '--canary', '2'], env)).rejects.toThrow(/missing --weight/);
    await expect(run(['import', 'x', '--labels', 'a,b', '--name', 'm', '--out', 'o'], env)).rejects.toThrow(/missing --tokenizer/);
  });

  it('starts a canary run with its gates, follows its checks to the verdict, and fails the watch unless it was promoted', async () => {
    const check = (step, passed, reason) => ({ at: '2026-12-01T00:00:00Z', step, weight: [20, 100][step], requests: 120, errorRate: 0, p99Ms: 4.2, stableRequests: 480, stableErrorRate: 0, stableP99Ms: 4, comparisons: 60, agreement: passed ? 1 : 0.1, errorZ: 0, agreementUpper: passed ? 1 : 0.2, passed, reason });
    const view = { id: 7, model: 'spam', stable: 1, canary: 3, state: 'RUNNING', stepIndex: 0, weight: 20, steps: [20, 100], stepSeconds: 5, gates: {}, sticky: false, mirrorShare: 50, maxExtensions: 3, startedAt: '2026-12-01T00:00:00Z', startedBy: 'key:1:admin', checks: [] };
    const seen = [];
    let polls = 0;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body: body ? JSON.parse(body) : undefined });
        const answer = req.method === 'POST' ? view
          : ++polls === 1 ? { ...view, checks: [check(0, true, 'passed')] }
          : { ...view, state: 'ROLLED_BACK', weight: 0, reason: 'agreement 10.0% < 95%', checks: [check(0, true, 'passed'), check(1, false, 'agreement 10.0% < 95%')] };
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const env = { SERVABLE_CONFIG_DIR: dir, SERVABLE_URL: `http://127.0.0.1:${server.address().port}`, SERVABLE_KEY: 'svb_cli_test' };
    try {
      const started = await run(['canary', 'start', 'spam', '3', '--steps', '20,100', '--step-seconds', '5', '--min-agreement', '0.95', '--sticky'], env);
      expect(started).toMatch(/canary run 7: spam v3 against stable v1/);
      expect(seen[0]).toMatchObject({ method: 'POST', url: '/admin/api/models/spam/canary-runs', auth: 'Bearer svb_cli_test' });
      expect(seen[0].body).toEqual({ canary: 3, steps: [20, 100], stepSeconds: 5, gates: { maxErrorRate: 0.01, maxP99Ratio: 1.5, minAgreement: 0.95, minRequests: 100 }, sticky: true });

      const verdict = await run(['canary', 'watch', 'spam', '7'], env);
      expect(verdict).toBe('canary run 7: ROLLED_BACK (agreement 10.0% < 95%)');
      expect(process.exitCode).toBe(1);
      expect(seen.slice(1).every((r) => r.url === '/admin/api/models/spam/canary-runs/7')).toBe(true);
    } finally {
      process.exitCode = 0;
      server.close();
    }
  });

  describe('rollout set, which replaces the whole rollout', () => {
    const rolloutView = (call) => ({ model: 'spam', stableVersion: call.body.stable ?? null, canary: call.body.canary, canaryWeight: call.body.canaryWeight ?? 0, sticky: call.body.sticky ?? true, shadow: call.body.shadow, cohortRules: call.body.cohortRules ?? [] });

    it('PUTs every part it is given, fractional percents and sticky off included', async () => {
      const api = await fakeAdminApi(rolloutView);
      try {
        const text = await run(['rollout', 'set', 'spam', '--stable', '1', '--canary', '3', '--weight', '12.5', '--no-sticky', '--shadow', '4', '--shadow-share', '0.5', '--cohort', 'X-Tenant=acme=5'], api.env);
        expect(api.seen).toEqual([
          { method: 'PUT', url: '/admin/api/models/spam/rollout', body: { stable: 1, canary: 3, canaryWeight: 12.5, sticky: false, shadow: { version: 4, share: 0.5 }, cohortRules: [{ header: 'x-tenant', value: 'acme', version: 5 }] } },
        ]);
        expect(text).toBe('spam: stable 1, canary 3 at 12.5%, shadow 4 at 0.5%, x-tenant=acme -> 5');
        await run(['rollout', 'set', 'spam', '--canary', '3', '--weight', '10', '--sticky'], api.env);
        expect(api.seen[1].body).toEqual({ canary: 3, canaryWeight: 10, sticky: true });
      } finally {
        await api.close();
      }
    });

    it('refuses a flag that cannot stand alone, and no flags at all, before calling the API', async () => {
      const api = await fakeAdminApi(rolloutView);
      const set = (...flags) => run(['rollout', 'set', 'spam', ...flags], api.env);
      try {
        await expect(set('--weight', '50')).rejects.toThrow(/^--weight needs --canary <version>: rollout set replaces the whole rollout/);
        await expect(set('--stable', '1', '--shadow-share', '5')).rejects.toThrow(/^--shadow-share needs --shadow <version>/);
        await expect(set('--stable', '1', '--shadow', '4')).rejects.toThrow(/^--shadow needs --shadow-share <percent>/);
        await expect(set('--no-sticky')).rejects.toThrow(/^--no-sticky needs --canary <version> --weight <percent>/);
        await expect(set('--canary', '3', '--weight', '10', '--sticky', '--no-sticky')).rejects.toThrow('--sticky and --no-sticky contradict each other');
        await expect(set()).rejects.toThrow(/replaces the whole rollout.*use servable rollout clear <model>/);
        await expect(set('--json')).rejects.toThrow(/use servable rollout clear <model>/);
        for (const weight of ['100.5', '-5', 'abc', '1e1']) {
          await expect(set('--canary', '3', `--weight=${weight}`)).rejects.toThrow(`--weight must be a percent from 0 to 100, got "${weight}"`);
        }
        await expect(set('--canary', '3', '--weight', '-5')).rejects.toThrow('--weight must be a percent from 0 to 100, got "-5"');
        await expect(set('--shadow', '4', '--shadow-share', '101')).rejects.toThrow('--shadow-share must be a percent from 0 to 100, got "101"');
        expect(api.seen).toEqual([]);
      } finally {
        await api.close();
      }
    });
  });

  it('starts a canary run with sticky off, and refuses --sticky with --no-sticky', async () => {
    const api = await fakeAdminApi(() => ({ id: 8, model: 'spam', stable: 1, canary: 3, steps: [12.5, 100], stepSeconds: 5 }));
    const start = (...flags) => run(['canary', 'start', 'spam', '3', '--steps', '12.5,100', '--step-seconds', '5', ...flags], api.env);
    try {
      await start('--no-sticky');
      expect(api.seen[0].body).toMatchObject({ canary: 3, steps: [12.5, 100], sticky: false });
      await expect(start('--sticky', '--no-sticky')).rejects.toThrow('--sticky and --no-sticky contradict each other');
      await expect(run(['canary', 'start', 'spam', '3', '--steps', '0,100', '--step-seconds', '5'], api.env)).rejects.toThrow('--steps must be above 0');
      expect(api.seen).toHaveLength(1);
      // Every field of the run the API takes, not only the four gates.
      await start('--p99-tolerance-ms', '8', '--mirror-share', '25', '--max-extensions', '0');
      expect(api.seen[1].body).toMatchObject({ gates: { p99ToleranceMs: 8 }, mirrorShare: 25, maxExtensions: 0 });
      expect(api.seen[0].body).not.toHaveProperty('mirrorShare');
    } finally {
      await api.close();
    }
  });

  describe('errors a user can act on: one line on stderr and the documented exit code', () => {
    it('bad usage: 2, without a stack', () => {
      const r = servable('rollout', 'set', 'spam', '--canary', '3', '--weight', '-5');
      expect(r).toEqual({ status: 2, stderr: 'servable: --weight must be a percent from 0 to 100, got "-5"\n' });
      const missing = servable('rollout', 'set', 'spam', '--canary', '3', '--weight');
      expect(missing).toEqual({ status: 2, stderr: "servable: Option '--weight <value>' argument missing\n" });
    });

    it('a model TF.js cannot load: 1, naming the layer', () => {
      const spam = servable('import', SPAM_V1, '--tokenizer', tokenizerFile(), '--labels', 'ham,spam', '--name', 'spam', '--out', join(dir, 'spam-import'));
      expect(spam.status).toBe(1);
      expect(spam.stderr).toMatch(/^servable: the model uses HashedBigrams, one of Servable's own layers, .*servable upload <dir> --tokenizer <tokenizer.json>.*\n$/);
      expect(spam.stderr.split('\n')).toHaveLength(2);

      const custom = join(dir, 'custom-layer');
      const model = JSON.parse(readFileSync(join(SPAM_V1, 'model.json'), 'utf8'));
      model.modelTopology.config.layers.find((l) => l.class_name === 'HashedBigrams').class_name = 'FancyAttention';
      mkdirSync(custom);
      writeFileSync(join(custom, 'model.json'), JSON.stringify(model));
      writeFileSync(join(custom, 'weights.bin'), readFileSync(join(SPAM_V1, 'weights.bin')));
      const other = servable('import', custom, '--tokenizer', tokenizerFile(), '--labels', 'ham,spam', '--name', 'spam', '--out', join(dir, 'custom-import'));
      expect(other).toEqual({ status: 1, stderr: 'servable: the model uses layer FancyAttention, which TF.js does not know: rewrite it with standard layers before export (docs/bring-your-own-model.md)\n' });
    });
  });
});

describe('upload', () => {
  it("sends the model's own files (servable.json, model.json, its weights) and leaves other files behind", () => {
    const dir = mkdtempSync(join(tmpdir(), 'servable-upload-'));
    try {
      for (const f of ['servable.json', 'model.json', 'weights.bin']) writeFileSync(join(dir, f), readFileSync(join(SPAM_V1, f)));
      writeFileSync(join(dir, 'README.md'), 'notes');
      writeFileSync(join(dir, 'tokenizer.json'), '{}');
      const { form, files } = uploadForm(dir);
      expect(files).toEqual(['servable.json', 'model.json', 'weights.bin']);
      expect(form.getAll('files').length).toBe(3);
      expect(form.getAll('tokenizer').length).toBe(1);
      rmSync(join(dir, 'weights.bin'));
      expect(() => uploadForm(dir)).toThrow(`model.json names weights file weights.bin, which is not in ${dir}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
