import { describe, expect, it } from 'vitest';
import { importLogLines } from './import-report';

describe('importLogLines', () => {
  it('names what was registered, and warns or errs on each version the import could not take as it is', () => {
    const lines = importLogLines('/models', true, {
      added: ['spam/3'],
      unchanged: ['spam/1', 'spam/2'],
      changedOnDisk: ['spam/2'],
      failed: [{ version: 'spam/4', error: 'servable.json: max_length must be a positive integer' }],
    });
    expect(lines).toEqual([
      { level: 'info', msg: 'model repository /models: 1 version(s) registered (spam/3), 2 already registered' },
      { level: 'warn', msg: expect.stringMatching(/^spam\/2: its files changed on disk after it was registered/) },
      { level: 'error', msg: 'spam/4 not registered: servable.json: max_length must be a positive integer' },
    ]);
  });

  it('warns once when the repository folder does not exist', () => {
    expect(importLogLines('/nope', false, { added: [], unchanged: [], changedOnDisk: [], failed: [] })).toEqual([
      { level: 'warn', msg: 'MODEL_REPOSITORY /nope does not exist: nothing imported (an upload creates it)' },
    ]);
  });
});
