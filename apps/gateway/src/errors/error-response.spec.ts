import { ErrorCode } from '@servable/contracts';
import { describe, expect, it } from 'vitest';
import { toHttpError } from './error-response';

describe('toHttpError', () => {
  it("answers an unreachable database with 503 UNAVAILABLE and Retry-After, not a 500 naming a bug", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' });
    expect(toHttpError(refused)).toEqual({
      status: 503,
      body: { error: "the control plane's database is unreachable; retry shortly", code: ErrorCode.UNAVAILABLE },
      retryAfterSeconds: 1,
    });
  });

  it('keeps any other unknown error a 500 with an errorId and no detail', () => {
    const answer = toHttpError(new Error('secret internals'));
    expect(answer).toMatchObject({ status: 500, body: { code: ErrorCode.INTERNAL } });
    expect(JSON.stringify(answer.body)).not.toContain('secret');
  });
});
