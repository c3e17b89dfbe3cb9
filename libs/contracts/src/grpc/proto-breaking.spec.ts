import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const workspace = join(__dirname, '../../../..');
const buf = join(workspace, 'node_modules/.bin/buf');

/**
 * The `buf breaking` rules of proto/buf.yaml (what `npm run proto:breaking` runs in CI),
 * on a scratch repository holding a copy of the protos: one commit as the base, and each
 * test's edits in the working tree compared against it.
 */
describe('buf breaking on the protos', () => {
  let repo: string;
  let base: string;
  let git: (...args: string[]) => string;
  const file = (path: string) => join(repo, 'proto', path);
  const edit = (path: string, from: string, to: string) => {
    const text = readFileSync(file(path), 'utf8');
    expect(text).toContain(from);
    writeFileSync(file(path), text.replace(from, to));
  };
  const breaking = () => {
    const run = spawnSync(buf, ['breaking', 'proto', '--against', `.git#ref=${base},subdir=proto`], { cwd: repo, encoding: 'utf8' });
    return { status: run.status, out: run.stdout + run.stderr };
  };

  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), 'servable-proto-'));
    cpSync(join(workspace, 'libs/contracts/proto'), join(repo, 'proto'), { recursive: true });
    git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], { cwd: repo, encoding: 'utf8' });
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'base');
    base = git('rev-parse', 'HEAD').trim();
  });

  beforeEach(() => void git('checkout', '-q', '--', '.'));
  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  it('passes when nothing changed, and when a v1 message only gains a field', () => {
    expect(breaking()).toMatchObject({ status: 0 });
    edit('servable/tokenizer/v1/tokenizer.proto', '  uint64 size_bytes = 7;\n', '  uint64 size_bytes = 7;\n  string note = 8;\n');
    expect(breaking()).toMatchObject({ status: 0 });
  });

  it('fails when a v1 field is renumbered, naming the field', () => {
    edit('servable/tokenizer/v1/tokenizer.proto', 'int64 loaded_at_unix_ms = 6;', 'int64 loaded_at_unix_ms = 9;');
    const result = breaking();
    expect(result.status).not.toBe(0);
    expect(result.out).toContain('Previously present field "6" with name "loaded_at_unix_ms" on message "TokenizerInfo" was deleted');
  });

  it('leaves vendored protos to their upstream', () => {
    edit('tensorflow_serving/apis/predict.proto', 'ModelSpec model_spec = 1;', 'ModelSpec model_spec = 11;');
    expect(breaking()).toMatchObject({ status: 0 });
  });
});
