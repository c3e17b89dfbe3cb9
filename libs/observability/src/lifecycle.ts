import type { Server as GrpcServer } from '@grpc/grpc-js';
import type { CustomStrategy } from '@nestjs/microservices';
import type { Server as HttpServer } from 'node:http';

/** How long a restarted process keeps trying a port whose old socket lingers. */
const BIND_RETRY_MS = 10_000;
const BIND_RETRY_STEP_MS = 250;

const inUse = (err: unknown) => /EADDRINUSE|address already in use/i.test(`${(err as Error)?.message} ${(err as NodeJS.ErrnoException)?.code}`);

/**
 * Runs `bind` until it stops failing with EADDRINUSE, for up to 10 s, logging each wait:
 * a replica restarted at once (kill -9, then a new process) may find its port still held by
 * the old socket for a moment, and should take it when it frees rather than exit.
 */
export async function bindWithRetry<T>(what: string, bind: () => Promise<T>, log: (message: string) => void, retryMs = BIND_RETRY_MS): Promise<T> {
  const until = Date.now() + retryMs;
  let warned = false;
  for (;;) {
    try {
      return await bind();
    } catch (err) {
      if (!inUse(err) || Date.now() >= until) throw err;
      if (!warned) log(`${what}: address in use, retrying for up to ${Math.round(retryMs / 1000)} s`);
      warned = true;
      await new Promise((r) => setTimeout(r, BIND_RETRY_STEP_MS));
    }
  }
}

/** The grpc-js server under Nest's ServerGrpc strategy (null before listen and after close). */
function grpcServerOf(strategy: CustomStrategy): GrpcServer | null {
  // ServerGrpc keeps it in a TS-private field; Nest offers only a close() that waits without a bound.
  return (strategy.strategy as unknown as { grpcClient: GrpcServer | null }).grpcClient ?? null;
}

/**
 * Stops a gRPC server from taking new calls (GOAWAY: clients see UNAVAILABLE and go to
 * another replica) and waits for the calls in flight, at most `timeoutMs`; then it is
 * forced, so a hung call or an open Watch stream cannot hold the process.
 */
export async function drainGrpcServer(strategy: CustomStrategy, timeoutMs: number): Promise<void> {
  const server = grpcServerOf(strategy);
  if (!server) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, timeoutMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Stops an HTTP server from accepting connections and waits for the requests in flight, at
 * most `timeoutMs`. Idle keep-alive connections are closed now; a busy one is closed after
 * its response (the caller marks responses `Connection: close` while draining).
 */
export async function drainHttpServer(server: HttpServer, timeoutMs: number): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, timeoutMs);
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearTimeout(timer);
      clearInterval(idle);
      resolve();
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A repeated signal this soon is the same request delivered twice (terminal and launcher), not an impatient user. */
const REPEAT_MS = 1_000;

/**
 * The one signal handler of a process: SIGTERM (Kubernetes) runs `stop` with the grace
 * period, SIGINT (Ctrl-C) without it; a second signal a second later exits at once.
 */
export function onShutdownSignals(name: string, stop: (signal: 'SIGTERM' | 'SIGINT') => Promise<void>): void {
  let since: number | undefined;
  const handle = (signal: 'SIGTERM' | 'SIGINT') => {
    if (since !== undefined) {
      if (Date.now() - since < REPEAT_MS) return;
      console.log(`${name}: ${signal} again, exiting now`);
      process.exit(1);
    }
    since = Date.now();
    console.log(`${name}: ${signal}, shutting down`);
    stop(signal).then(
      () => process.exit(0),
      (err: Error) => {
        console.error(`${name}: shutdown failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => handle('SIGTERM'));
  process.on('SIGINT', () => handle('SIGINT'));
}
