import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repositorySource } from './repository-source';

describe('repositorySource', () => {
  const dir = mkdtempSync(join(tmpdir(), 'servable-repo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a MODEL_REPOSITORY that does not exist or is not a directory, so start-up fails with the path', () => {
    expect(() => repositorySource(join(dir, 'missing'))).toThrow(`MODEL_REPOSITORY ${join(dir, 'missing')} does not exist`);
    writeFileSync(join(dir, 'file'), '');
    expect(() => repositorySource(join(dir, 'file'))).toThrow(`MODEL_REPOSITORY ${join(dir, 'file')} is not a directory`);
  });

  it('takes an empty directory: versions can be loaded into it later', async () => {
    expect(await repositorySource(dir).listModels()).toEqual([]);
  });
});
