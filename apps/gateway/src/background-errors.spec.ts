import { describe, expect, it } from 'vitest';
import { backgroundErrorLogger } from './gateway-server';

describe('backgroundErrorLogger', () => {
  it('logs the first failure at once, then at most one line per 30 s saying how many it held back', () => {
    const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
    let now = 0;
    const onError = backgroundErrorLogger({ error: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg }) }, () => now);
    onError(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    for (now = 500; now < 30_000; now += 500) onError(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    now = 30_000;
    onError(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    expect(lines.map((l) => [l.msg, l.obj['suppressed']])).toEqual([
      ['control plane background work failed: connect ECONNREFUSED 127.0.0.1:5432', undefined],
      ['control plane background work failed: connect ECONNREFUSED 127.0.0.1:5432', 59],
    ]);
    expect(lines[0].obj).toMatchObject({ context: 'ControlPlane', err: expect.any(Error) });
  });
});
