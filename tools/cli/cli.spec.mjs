import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, saveConfig } from './lib/config.mjs';
import { tokenizerFacts } from './lib/import.mjs';
import { run } from './servable.mjs';

const TOKENIZERS = join(import.meta.dirname, '../../models/tokenizers');
const dir = mkdtempSync(join(tmpdir(), 'servable-cli-unit-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
});
