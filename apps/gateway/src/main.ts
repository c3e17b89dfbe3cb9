import 'reflect-metadata';
import { installLeanAsyncResourceBind, onShutdownSignals, startTracing, stopTracing } from '@servable/observability';
import { loadGatewayConfig } from './config/gateway.config';
import { startGateway, type RunningGateway } from './gateway-server';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  installLeanAsyncResourceBind();
  await startTracing('gateway');
  let server: RunningGateway | undefined = undefined;
  // SIGTERM (Kubernetes) waits SHUTDOWN_GRACE_MS unready before it stops taking work; Ctrl-C does not wait.
  // Installed first, so a SIGTERM is never ignored (node as PID 1 has no default handler in a container).
  onShutdownSignals('gateway', async (signal) => {
    // A signal during start-up (models still loading) exits at once: nothing is in flight yet.
    if (server) await server.close(signal === 'SIGINT' ? { graceMs: 0 } : {});
    await stopTracing(); // flushes the last spans
  });
  server = await startGateway(config);
  console.log(`gateway: REST on ${server.httpUrl}, gRPC on ${server.grpcUrl}, tokenizer ${config.TOKENIZER_URL}, inference ${config.INFERENCE_URL}`);
  if (server.createdAdminKey) {
    console.log(
      `gateway: created the first admin API key; it is shown this once, store it now:\n\n    ${server.createdAdminKey}\n\n` +
        `  (lost it? restart with SERVABLE_ADMIN_KEY=<a key of 16+ characters> to register that one as admin)`,
    );
  }
}

main().catch((err) => {
  console.error('gateway failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
