import 'reflect-metadata';
import { onShutdownSignals, startTracing, stopTracing } from '@servable/observability';
import { loadGatewayConfig } from './config/gateway.config';
import { startGateway } from './gateway-server';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  startTracing('gateway');
  const server = await startGateway(config);
  console.log(`gateway: REST on ${server.httpUrl}, gRPC on ${server.grpcUrl}, tokenizer ${config.TOKENIZER_URL}, inference ${config.INFERENCE_URL}`);
  if (server.createdAdminKey) {
    console.log(
      `gateway: created the first admin API key; it is shown this once, store it now:\n\n    ${server.createdAdminKey}\n\n` +
        `  (lost it? restart with SERVABLE_ADMIN_KEY=<a key of 16+ characters> to register that one as admin)`,
    );
  }
  // SIGTERM (Kubernetes) waits SHUTDOWN_GRACE_MS unready before it stops taking work; Ctrl-C does not wait.
  onShutdownSignals('gateway', async (signal) => {
    await server.close(signal === 'SIGINT' ? { graceMs: 0 } : {});
    await stopTracing(); // flushes the last spans
  });
}

main().catch((err) => {
  console.error('gateway failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
