import 'reflect-metadata';
import { loadInferenceConfig } from './config/inference.config';
import { startInference } from './inference-server';
import { repositorySource } from './models/repository-source';

async function main(): Promise<void> {
  const config = loadInferenceConfig();
  const server = await startInference(config, { source: repositorySource(config.MODEL_REPOSITORY) });
  console.log(`inference: gRPC on ${server.grpcUrl}, backend ${server.backend}, metrics and probes on ${server.httpUrl}`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`inference: ${signal}, draining queues and shutting down`);
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  console.error('inference failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
