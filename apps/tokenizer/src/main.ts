// The native tokenizer encodes on the libuv pool; size it before anything uses it.
process.env['UV_THREADPOOL_SIZE'] ??= String(Math.max(4, require('node:os').availableParallelism()));

import 'reflect-metadata';
import { loadTokenizerConfig } from './config/tokenizer.config';
import { startTokenizer } from './tokenizer-server';

async function main(): Promise<void> {
  const config = loadTokenizerConfig();
  const server = await startTokenizer(config);
  console.log(`tokenizer: gRPC on ${server.grpcUrl}, metrics and probes on ${server.httpUrl}`);
  const stop = async (signal: string) => {
    console.log(`tokenizer: ${signal}, shutting down`);
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  console.error('tokenizer failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
