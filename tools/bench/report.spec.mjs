import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { benchmarksMarkdown, servingCpu, writeResults } from './_report.mjs';

const gatewayRun = (logLevel, gateway) => ({
  concurrency: 64,
  path: 'gateway classify (REST)',
  logLevel,
  rps: 2000,
  p50Ms: 30,
  p99Ms: 55,
  cpuMsPerUnit: { gateway, tokenizer: 0.05, inference: 0.4, loadgen: 0.1 },
  rssMb: { gateway: 300, tokenizer: 200, inference: 400, loadgen: 60 },
});

const gateway = {
  benchmark: 'gateway',
  title: 'Classify, one text per request.',
  at: '2026-12-01T00:00:00.000Z',
  machine: { cores: 2 },
  description: ['how it was measured'],
  runs: [
    { concurrency: 64, path: 'in-process (tokenize + same batcher)', rps: 3000, p50Ms: 20, p99Ms: 40, cpuMsPerUnit: { inProcess: 0.5 }, rssMb: { inProcess: 500 } },
    gatewayRun('info', 0.3),
    gatewayRun('warn', 0.2),
  ],
  extra: ['gateway idle RSS: 250 MB'],
  targets: [
    { target: 'gateway CPU per classify ≤ 0.25 ms (c=64)', measured: '0.300 ms', met: false },
    { target: 'gateway idle RSS ≤ 150 MB on PostgreSQL', measured: 'not measured' },
  ],
};

const tokenizer = {
  benchmark: 'tokenizer',
  at: '2026-12-01T00:00:00.000Z',
  unit: 'text',
  runs: [{ concurrency: 8, path: 'service', logLevel: 'info', rps: 9000, p50Ms: 3, p99Ms: 9, cpuMsPerUnit: { tokenizer: 0.12, loadgen: 0.01 }, rssMb: { tokenizer: 200 } }],
  targets: [{ target: 'service CPU per uncached text ≤ 1.3× in-process', measured: '1.10×', met: true }],
};

const tableRows = (md, section) =>
  md
    .split(`## ${section}`)[1]
    .split('\n## ')[0]
    .split('\n')
    .filter((l) => l.startsWith('| '));

describe('benchmarksMarkdown', () => {
  const md = benchmarksMarkdown([tokenizer, gateway]);

  it('opens with every target of every benchmark, the missed ones marked', () => {
    const targets = tableRows(md, 'Targets');
    expect(targets[2]).toBe('| gateway | gateway CPU per classify ≤ 0.25 ms (c=64) | 0.300 ms | **not met** |');
    expect(targets[3]).toBe('| gateway | gateway idle RSS ≤ 150 MB on PostgreSQL | not measured | – |');
    expect(targets[4]).toBe('| tokenizer | service CPU per uncached text ≤ 1.3× in-process | 1.10× | met |');
  });

  it('gives the LOG_LEVEL=warn run on the line after the default one', () => {
    const rows = tableRows(md, 'gateway');
    expect(rows[0]).toContain('| c | path | LOG_LEVEL | requests/s | p50 ms | p99 ms |');
    expect(rows[3]).toMatch(/^\| 64 \| gateway classify \(REST\) \| info \| 2,000 \| 30\.00 \| 55\.00 \| 0\.300 \|/);
    expect(rows[4]).toMatch(/^\| 64 \| gateway classify \(REST\) \| warn \| 2,000 \| 30\.00 \| 55\.00 \| 0\.200 \|/);
  });

  it('has a CPU and an RSS column for each process a run reports, and a dash where one has none', () => {
    const [head, , inProcess, info] = tableRows(md, 'gateway');
    const cells = (line) => line.split(' | ');
    expect(head).toContain('CPU ms/request gateway | CPU ms/request tokenizer | CPU ms/request inference | CPU ms/request in-process (this process) | CPU ms/request load generator | CPU ms/request serving total');
    expect(head).toContain('RSS MB gateway | RSS MB tokenizer | RSS MB inference | RSS MB in-process (this process) | RSS MB load generator | notes');
    expect(head).not.toContain('main thread');
    expect(cells(inProcess).length).toBe(cells(head).length);
    // gateway + tokenizer + inference; the load generator is not serving.
    expect(info).toContain('| 0.300 | 0.050 | 0.400 | – | 0.100 | 0.750 | 300 | 200 | 400 | – | 60 |');
  });

  it('counts per text where a benchmark says so, and keeps the description and extra lines', () => {
    expect(tableRows(md, 'tokenizer')[0]).toContain('| texts/s | p50 ms | p99 ms | CPU ms/text tokenizer | CPU ms/text load generator | CPU ms/text serving total |');
    expect(md).toContain('- how it was measured');
    expect(md).toContain('- gateway idle RSS: 250 MB');
    expect(md.indexOf('## gateway')).toBeLessThan(md.indexOf('## tokenizer'));
  });
});

describe('servingCpu', () => {
  it('adds the serving processes and leaves out the load generator and the main-thread share', () => {
    expect(servingCpu({ cpuMsPerUnit: { inference: 1, inferenceMain: 0.2, loadgen: 0.3 } })).toBe(1);
    expect(servingCpu({ cpuMsPerUnit: { loadgen: 0.3 } })).toBeUndefined();
  });
});

describe('writeResults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the JSON and regenerates the docs from every result in the folder', () => {
    const results = join(dir, 'results');
    const docs = join(dir, 'benchmarks.md');
    writeResults('tokenizer', tokenizer, { dir: results, docs });
    writeResults('gateway', gateway, { dir: results, docs });
    expect(readdirSync(results).sort()).toEqual(['gateway.json', 'tokenizer.json']);
    expect(JSON.parse(readFileSync(join(results, 'tokenizer.json'), 'utf8')).benchmark).toBe('tokenizer');
    const md = readFileSync(docs, 'utf8');
    expect(md).toContain('## gateway');
    expect(md).toContain('## tokenizer');
  });
});
