import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { isStoreUnreachable } from './store-unreachable';

describe('isStoreUnreachable', () => {
  it('names a connection that could not be made, was lost, or a server going down', () => {
    expect(isStoreUnreachable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isStoreUnreachable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isStoreUnreachable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    // TypeORM wraps what the driver said.
    expect(isStoreUnreachable(new QueryFailedError('SELECT 1', [], Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })))).toBe(true);
    expect(isStoreUnreachable(Object.assign(new Error('connection failure'), { code: '08006' }))).toBe(true);
  });

  it('leaves an answer the database gave: a failed query is not an outage', () => {
    expect(isStoreUnreachable(new QueryFailedError('INSERT', [], Object.assign(new Error('duplicate key value'), { code: '23505' })))).toBe(false);
    expect(isStoreUnreachable(new Error('something else'))).toBe(false);
    expect(isStoreUnreachable(undefined)).toBe(false);
  });
});
