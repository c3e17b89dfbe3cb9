import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { bindWithRetry } from './lifecycle';
import { withTimeout } from './with-timeout';

export interface ReadinessReport {
  ready: boolean;
  /** Per dependency or component: what is and isn't ready, shown as is on /readyz. */
  checks: Record<string, unknown>;
}

export interface SidecarHttpOptions {
  host: string;
  port: number;
  registry: Registry;
  readiness: () => Promise<ReadinessReport>;
  /** A probe that takes longer than this fails rather than piling up. */
  probeTimeoutMs?: number;
  /** Where a wait for a lingering port is reported. */
  log?: (message: string) => void;
}

/**
 * The small HTTP side port of a gRPC-only service: /metrics for Prometheus,
 * /healthz for liveness (the process answers) and /readyz for readiness
 * (it can do useful work). Kubernetes restarts on the first, routes on the second.
 */
export async function startSidecarHttp(options: SidecarHttpOptions): Promise<Server> {
  const timeoutMs = options.probeTimeoutMs ?? 2_000;
  const server = createServer((req, res) => {
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, JSON.stringify({ error: 'method not allowed', code: 'INVALID_ARGUMENT' }));
    if (path === '/healthz' || path === '/livez') return send(200, JSON.stringify({ status: 'ok' }));
    if (path === '/readyz') {
      withTimeout(options.readiness(), timeoutMs, 'readiness check')
        .then((report) => send(report.ready ? 200 : 503, JSON.stringify(report)))
        .catch((err: Error) => send(503, JSON.stringify({ ready: false, checks: { error: err.message } })));
      return;
    }
    if (path === '/metrics') {
      options.registry
        .metrics()
        .then((text) => send(200, text, options.registry.contentType))
        .catch((err: Error) => send(500, JSON.stringify({ error: err.message, code: 'INTERNAL' })));
      return;
    }
    send(404, JSON.stringify({ error: `no route ${path}`, code: 'NOT_FOUND' }));
  });
  await bindWithRetry(
    `side port ${options.host}:${options.port}`,
    () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve();
        });
      }),
    options.log ?? ((m) => console.warn(m)),
  );
  return server;
}

export function serverAddress(server: Server): string {
  const a = server.address() as AddressInfo;
  return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
}
