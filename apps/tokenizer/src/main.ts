// The native tokenizer encodes on the libuv pool; size it before anything uses it.
process.env['UV_THREADPOOL_SIZE'] ??= String(Math.max(4, require('node:os').availableParallelism()));

import 'reflect-metadata';
import { installLeanAsyncResourceBind, onShutdownSignals, startTracing, stopTracing } from '@servable/observability';
import { loadTokenizerConfig } from './config/tokenizer.config';
import { startTokenizer, type RunningTokenizer } from './tokenizer-server';

async function main(): Promise<void> {
  const config = loadTokenizerConfig();
  installLeanAsyncResourceBind();
  await startTracing('tokenizer');
  let server: RunningTokenizer | undefined = undefined;
  // SIGTERM waits SHUTDOWN_GRACE_MS unready before it stops taking calls; Ctrl-C does not wait.
  // Installed first, so a SIGTERM is never ignored (node as PID 1 has no default handler in a container).
  onShutdownSignals('tokenizer', async (signal) => {
    // A signal during start-up (models still loading) exits at once: nothing is in flight yet.
    if (server) await server.close(signal === 'SIGINT' ? { graceMs: 0 } : {});
    await stopTracing(); // flushes the last spans
  });
  server = await startTokenizer(config);
  console.log(`tokenizer: gRPC on ${server.grpcUrl}, metrics and probes on ${server.httpUrl}`);
}

main().catch((err) => {
  console.error('tokenizer failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
