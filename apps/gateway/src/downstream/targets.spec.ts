import { describe, expect, it } from 'vitest';
import { parseTargets, resolveTargets } from './targets';

describe('data-plane addresses', () => {
  it('accepts host:port, comma lists and grpc-js target spellings', () => {
    expect(parseTargets('127.0.0.1:50051')).toEqual([{ host: '127.0.0.1', port: 50051 }]);
    expect(parseTargets('127.0.0.2:50052,127.0.0.3:50052')).toEqual([{ host: '127.0.0.2', port: 50052 }, { host: '127.0.0.3', port: 50052 }]);
    expect(parseTargets('ipv4:127.0.0.2:1,127.0.0.3:2').map((t) => t.port)).toEqual([1, 2]);
    expect(parseTargets('ipv6:[::1]:50051')).toEqual([{ host: '::1', port: 50051 }]);
    expect(parseTargets('dns:///servable-inference.default.svc:50052')).toEqual([{ host: 'servable-inference.default.svc', port: 50052 }]);
  });

  it('refuses what is not host:port', () => {
    expect(() => parseTargets('inference')).toThrow(/not host:port/);
    expect(() => parseTargets('a:0')).toThrow(/out of range/);
    expect(() => parseTargets(' , ')).toThrow(/names no address/);
  });

  it('resolves a name to every address it stands for, and keeps IP literals as they are', async () => {
    const { addresses } = await resolveTargets(parseTargets('127.0.0.3:1,127.0.0.2:1,localhost:7'));
    expect(addresses).toEqual(expect.arrayContaining(['127.0.0.2:1', '127.0.0.3:1', '127.0.0.1:7']));
    // localhost is one host even where it also resolves to ::1.
    expect(addresses.filter((a) => a.endsWith(':7'))).toEqual(['127.0.0.1:7']);
    const missing = await resolveTargets(parseTargets('no-such-host.invalid:1'));
    expect(missing.addresses).toEqual([]);
    expect(missing.errors[0]).toMatch(/no-such-host/);
  });
});
