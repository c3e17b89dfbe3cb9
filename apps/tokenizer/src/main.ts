// The native tokenizer encodes on the libuv pool; size it before anything uses it.
process.env['UV_THREADPOOL_SIZE'] ??= String(Math.max(4, require('node:os').availableParallelism()));

import 'reflect-metadata';
import { onShutdownSignals, startTracing, stopTracing } from '@servable/observability';
import { loadTokenizerConfig } from './config/tokenizer.config';
import { startTokenizer } from './tokenizer-server';

async function main(): Promise<void> {
  const config = loadTokenizerConfig();
  startTracing('tokenizer');
  const server = await startTokenizer(config);
  console.log(`tokenizer: gRPC on ${server.grpcUrl}, metrics and probes on ${server.httpUrl}`);
  // SIGTERM waits SHUTDOWN_GRACE_MS unready before it stops taking calls; Ctrl-C does not wait.
  onShutdownSignals('tokenizer', async (signal) => {
    await server.close(signal === 'SIGINT' ? { graceMs: 0 } : {});
    await stopTracing(); // flushes the last spans
  });
}

main().catch((err) => {
  console.error('tokenizer failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
