import 'reflect-metadata';
import { installLeanAsyncResourceBind, onShutdownSignals, startTracing, stopTracing } from '@servable/observability';
import { loadInferenceConfig } from './config/inference.config';
import { startInference, type RunningInference } from './inference-server';
import { repositorySource } from './models/repository-source';

async function main(): Promise<void> {
  const config = loadInferenceConfig();
  installLeanAsyncResourceBind();
  await startTracing('inference');
  let server: RunningInference | undefined = undefined;
  // SIGTERM waits SHUTDOWN_GRACE_MS unready, then drains the queues; Ctrl-C drains at once.
  // Installed first, so a SIGTERM is never ignored (node as PID 1 has no default handler in a container).
  onShutdownSignals('inference', async (signal) => {
    // A signal during start-up (models still loading) exits at once: nothing is in flight yet.
    if (server) await server.close(signal === 'SIGINT' ? { graceMs: 0 } : {});
    await stopTracing(); // flushes the last spans
  });
  server = await startInference(config, { source: repositorySource(config.MODEL_REPOSITORY) });
  console.log(`inference: gRPC on ${server.grpcUrl}, backend ${server.backend}, metrics and probes on ${server.httpUrl}`);
}

main().catch((err) => {
  console.error('inference failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
