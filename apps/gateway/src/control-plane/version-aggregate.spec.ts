import { describe, expect, it } from 'vitest';
import type { ReplicaVersionState, VersionState } from '@servable/contracts/admin-api';
import { aggregateVersionState } from './version-aggregate';

const at = (state: VersionState, address = 'a', serving = true, detail?: string): ReplicaVersionState => ({ address, serving, state, ...(detail ? { detail } : {}) });

describe('aggregateVersionState', () => {
  it('becomes AVAILABLE the first time only when every serving replica holds the version', () => {
    expect(aggregateVersionState([at('AVAILABLE', 'a'), at('LOADING', 'b')], 'START').state).toBe('LOADING');
    expect(aggregateVersionState([at('AVAILABLE', 'a'), at('START', 'b')], 'LOADING').state).toBe('LOADING');
    expect(aggregateVersionState([at('AVAILABLE', 'a'), at('AVAILABLE', 'b')], 'LOADING')).toEqual({ state: 'AVAILABLE', detail: null });
  });

  it('stays AVAILABLE while a joining or restarted replica loads it', () => {
    expect(aggregateVersionState([at('AVAILABLE', 'a'), at('LOADING', 'b')], 'AVAILABLE').state).toBe('AVAILABLE');
    expect(aggregateVersionState([at('AVAILABLE', 'a'), at('START', 'b')], 'AVAILABLE').state).toBe('AVAILABLE');
  });

  it('is FAILED only where it failed everywhere, and names the replicas that failed', () => {
    const partly = aggregateVersionState([at('AVAILABLE', 'a'), at('FAILED', 'b', true, 'out of memory')], 'LOADING');
    expect(partly).toEqual({ state: 'AVAILABLE', detail: 'b: out of memory' });
    const everywhere = aggregateVersionState([at('FAILED', 'a', true, 'bad weights'), at('FAILED', 'b', true, 'bad weights')], 'LOADING');
    expect(everywhere.state).toBe('FAILED');
    expect(everywhere.detail).toBe('a: bad weights; b: bad weights');
  });

  it('counts replicas that are not SERVING (starting, draining) only when none is', () => {
    expect(aggregateVersionState([at('AVAILABLE', 'a'), at('START', 'b', false)], 'LOADING').state).toBe('AVAILABLE');
    expect(aggregateVersionState([at('LOADING', 'a', false)], 'START').state).toBe('LOADING');
  });

  it('reports END once no replica holds it, and UNLOADING on the way', () => {
    expect(aggregateVersionState([at('UNLOADING', 'a'), at('END', 'b')], 'AVAILABLE').state).toBe('UNLOADING');
    expect(aggregateVersionState([at('END', 'a'), at('END', 'b')], 'UNLOADING')).toEqual({ state: 'END', detail: null });
  });
});
