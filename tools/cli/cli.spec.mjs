import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
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
});
