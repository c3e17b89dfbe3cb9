import 'reflect-metadata';
import { onShutdownSignals, startTracing, stopTracing } from '@servable/observability';
import { loadInferenceConfig } from './config/inference.config';
import { startInference } from './inference-server';
import { repositorySource } from './models/repository-source';

async function main(): Promise<void> {
  const config = loadInferenceConfig();
  startTracing('inference');
  const server = await startInference(config, { source: repositorySource(config.MODEL_REPOSITORY) });
  console.log(`inference: gRPC on ${server.grpcUrl}, backend ${server.backend}, metrics and probes on ${server.httpUrl}`);
  // SIGTERM waits SHUTDOWN_GRACE_MS unready, then drains the queues; Ctrl-C drains at once.
  onShutdownSignals('inference', async (signal) => {
    await server.close(signal === 'SIGINT' ? { graceMs: 0 } : {});
    await stopTracing(); // flushes the last spans
  });
}

main().catch((err) => {
  console.error('inference failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
