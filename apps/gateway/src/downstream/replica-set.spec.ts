import * as grpc from '@grpc/grpc-js';
import { ErrorCode } from '@servable/contracts';
import { describe, expect, it } from 'vitest';
import { ReplicaSet } from './replica-set';
import type { Endpoint, EndpointFactory } from './grpc-downstream';

/** An endpoint that is never called: these tests only look at which replicas a call may go to. */
const idle: EndpointFactory = (address) => ({
  address,
  call: () => Promise.reject(new Error('not called in these tests')),
  renew: () => undefined,
  close: () => undefined,
});

async function threeReplicas() {
  const set = new ReplicaSet('inference', 'ipv4:127.0.0.2:50052,127.0.0.3:50052,127.0.0.4:50052', idle, idle, { resolveIntervalMs: 60_000, healthIntervalMs: 60_000 });
  await set.refresh();
  return set;
}

describe('ReplicaSet.spread', () => {
  it('counts the replicas a call for a key is spread over: serving ones holding it, else serving ones, at least 1', async () => {
    const set = await threeReplicas();
    const [a, b, c] = set.replicas();
    try {
      // Nothing checked yet: every replica may be tried.
      expect(set.spread('spam/2')).toBe(3);
      for (const r of [a, b, c]) r.status = 'SERVING';
      a.holds.set('spam/2', { state: 'AVAILABLE' });
      b.holds.set('spam/2', { state: 'AVAILABLE' });
      c.holds.set('spam/2', { state: 'LOADING' });
      expect(set.spread('spam/2')).toBe(2);
      // A version no replica holds yet goes to any serving one.
      expect(set.spread('spam/3')).toBe(3);
      b.markUnreachable('connection refused');
      expect(set.spread('spam/2')).toBe(1);
      for (const r of [a, b, c]) r.markUnreachable('partitioned');
      expect(set.spread('spam/2')).toBe(3);
    } finally {
      set.close();
    }
  });

  it('is 1 with no replica at all, so a request still gets its UNAVAILABLE answer from the call', () => {
    const set = new ReplicaSet('inference', '127.0.0.2:50052', idle, idle, { resolveIntervalMs: 60_000, healthIntervalMs: 60_000 });
    expect(set.spread('spam/2')).toBe(1);
    set.close();
  });
});

describe('ReplicaSet.call', () => {
  it('sends a call to the replica with the fewest calls out, so concurrent merged calls land one per replica', async () => {
    const pending: Array<{ address: string; answer(): void }> = [];
    const answering: EndpointFactory = (address): Endpoint => ({
      address,
      call: <T>() => new Promise<T>((resolve) => pending.push({ address, answer: () => resolve({} as T) })),
      renew: () => undefined,
      close: () => undefined,
    });
    const set = new ReplicaSet('inference', 'ipv4:127.0.0.2:50052,127.0.0.3:50052', answering, idle, {
      resolveIntervalMs: 60_000,
      healthIntervalMs: 60_000,
    });
    await set.refresh();
    for (const r of set.replicas()) {
      r.status = 'SERVING';
      r.holds.set('spam/2', { state: 'AVAILABLE' });
    }
    const deadline = Date.now() + 60_000;
    try {
      const first = set.call('predict', {}, { deadline }, 'spam/2');
      const second = set.call('predict', {}, { deadline }, 'spam/2');
      expect(pending.map((p) => p.address)).toEqual(['127.0.0.2:50052', '127.0.0.3:50052']);
      // The second replica answers first: the next call goes there, not round-robin to the busy one.
      pending[1].answer();
      await second;
      const third = set.call('predict', {}, { deadline }, 'spam/2');
      expect(pending[2].address).toBe('127.0.0.3:50052');
      pending[0].answer();
      pending[2].answer();
      await Promise.all([first, third]);
      expect(set.replicas().map((r) => r.inFlight)).toEqual([0, 0]);
    } finally {
      set.close();
    }
  });
});

describe('ReplicaSet.call', () => {
  const failing = (code: grpc.status, details: string): EndpointFactory => (address) => ({
    address,
    call: () => Promise.reject(Object.assign(new Error(`${code} ${details}`), { code, details, metadata: new grpc.Metadata() })),
    renew: () => undefined,
    close: () => undefined,
  });
  const oneReplica = async (endpoint: EndpointFactory, held: 'AVAILABLE' | 'none') => {
    const set = new ReplicaSet('inference', '127.0.0.2:50052', endpoint, idle, { resolveIntervalMs: 60_000, healthIntervalMs: 60_000 });
    await set.refresh();
    const [r] = set.replicas();
    r.status = 'SERVING';
    if (held === 'AVAILABLE') r.holds.set('spam/2', { state: 'AVAILABLE' });
    return set;
  };

  it('answers UNAVAILABLE when the only replica holding the version no longer has it (a restart), not its "pin it"', async () => {
    const set = await oneReplica(failing(grpc.status.FAILED_PRECONDITION, 'model "spam" version 2 is not loaded; pin it'), 'AVAILABLE');
    try {
      const err = await set.call('predict', {}, { deadline: Date.now() + 5_000 }, 'spam/2').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: ErrorCode.UNAVAILABLE, retryAfterSeconds: 1, message: expect.stringContaining('no longer holds spam/2') });
      // The claim is dropped, so the reconcile loop loads it there again.
      expect(set.replicas()[0].has('spam/2')).toBe(false);
    } finally {
      set.close();
    }
  });

  it('passes the replica\'s own answer on when it was not known to hold the version', async () => {
    const set = await oneReplica(failing(grpc.status.FAILED_PRECONDITION, 'model "spam" version 2 failed to load: bad weights'), 'none');
    try {
      const err = await set.call('predict', {}, { deadline: Date.now() + 5_000 }, 'spam/2').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: ErrorCode.FAILED_PRECONDITION, message: expect.stringContaining('failed to load: bad weights') });
    } finally {
      set.close();
    }
  });
});
