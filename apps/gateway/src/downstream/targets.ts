import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** One host:port a data-plane address names: an IP literal, or a name to resolve. */
export interface Target {
  host: string;
  port: number;
}

/**
 * The addresses TOKENIZER_URL / INFERENCE_URL accept, in grpc-js's spelling where it has one:
 * `host:port`, `dns:///host:port`, `dns:host:port`, `ipv4:a:p,b:p`, `ipv6:[::1]:p,...`, or a
 * plain comma list of `host:port`. A name (a Kubernetes headless Service) stands for every
 * address it resolves to, re-resolved periodically, so the gateway sees each replica.
 */
export function parseTargets(url: string): Target[] {
  const spec = url.trim().replace(/^(dns:\/\/[^/]*\/|dns:|ipv4:|ipv6:)/, '');
  const targets = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((part) => {
      const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(part);
      if (!m) throw new Error(`"${part}" in "${url}" is not host:port`);
      const port = Number(m[3]);
      if (port < 1 || port > 65535) throw new Error(`port ${port} in "${url}" is out of range`);
      return { host: m[1] ?? m[2], port };
    });
  if (targets.length === 0) throw new Error(`"${url}" names no address`);
  return targets;
}

export function formatAddress(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Every host:port behind the targets, sorted: IP literals as they are, names through the
 * system resolver (hosts file included, as a headless Service's DNS), IPv4 where a name has it. A name that does not
 * resolve contributes nothing this time rather than failing the others.
 */
export async function resolveTargets(targets: Target[]): Promise<{ addresses: string[]; errors: string[] }> {
  const errors: string[] = [];
  const lists = await Promise.all(
    targets.map(async ({ host, port }) => {
      if (isIP(host)) return [formatAddress(host, port)];
      try {
        const found = await lookup(host, { all: true });
        // A dual-stack name (localhost, a dual-stack Service) lists each host once per family: counting both
        // would make one replica two, and a v6 twin of a server bound to 0.0.0.0 would never answer.
        const v4 = found.filter((a) => a.family === 4);
        return (v4.length ? v4 : found).map((a) => formatAddress(a.address, port));
      } catch (err) {
        errors.push(`${host}: ${(err as Error).message}`);
        return [];
      }
    }),
  );
  return { addresses: [...new Set(lists.flat())].sort(), errors };
}
