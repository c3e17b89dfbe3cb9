// The native tokenizer encodes on the libuv pool; size it before anything uses it.
process.env['UV_THREADPOOL_SIZE'] ??= String(Math.max(4, require('node:os').availableParallelism()));

import 'reflect-metadata';
import { onShutdownSignals } from '@servable/observability';
import { loadTokenizerConfig } from './config/tokenizer.config';
import { startTokenizer } from './tokenizer-server';

async function main(): Promise<void> {
  const config = loadTokenizerConfig();
  const server = await startTokenizer(config);
  console.log(`tokenizer: gRPC on ${server.grpcUrl}, metrics and probes on ${server.httpUrl}`);
  // SIGTERM waits SHUTDOWN_GRACE_MS unready before it stops taking calls; Ctrl-C does not wait.
  onShutdownSignals('tokenizer', (signal) => server.close(signal === 'SIGINT' ? { graceMs: 0 } : {}));
}

main().catch((err) => {
  console.error('tokenizer failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
