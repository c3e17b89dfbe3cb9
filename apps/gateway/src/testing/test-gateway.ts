import { waitFor } from '@servable/observability/testing';
import { TestDatabase } from '@servable/persistence/testing';
import { loadGatewayConfig } from '../config/gateway.config';
import { startGateway, type RunningGateway } from '../gateway-server';
import { freePort, startFakeDataPlane, type FakeDataPlane } from './fake-data-plane';
import { gatewayTestRepository } from './test-repository';

export interface TestGateway {
  plane: FakeDataPlane;
  gateway: RunningGateway;
  /** REST base URL. */
  url: string;
  /** gRPC host:port. */
  grpcUrl: string;
  close(): Promise<void>;
}

/**
 * A gateway in this process over the fake data plane, with a control plane of its own
 * (a scratch PostgreSQL database with DATABASE_URL, else in-memory PGlite) on a scratch
 * copy of the model repository. It returns once the reconcile loop has seen v1 and v2
 * AVAILABLE, so labels and rollouts may point at them. `env` adds to the gateway's.
 */
export async function startTestGateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const plane = await startFakeDataPlane();
  const db = await TestDatabase.create();
  const repo = gatewayTestRepository();
  const grpcUrl = `127.0.0.1:${await freePort()}`;
  const config = loadGatewayConfig({
    GATEWAY_HTTP_PORT: '0',
    GATEWAY_HTTP_HOST: '127.0.0.1',
    GATEWAY_GRPC_URL: grpcUrl,
    TOKENIZER_URL: plane.tokenizerUrl,
    INFERENCE_URL: plane.inferenceUrl,
    MODEL_REPOSITORY: repo.root,
    LOG_LEVEL: 'warn',
    ...env,
  });
  const gateway = await startGateway(config, { database: db.options() });
  await waitFor('v1 and v2 AVAILABLE', async () => (await gateway.controlPlane.registry.getModel('spam')).versions.every((v) => v.state === 'AVAILABLE'), 10_000, 50);
  return {
    plane,
    gateway,
    url: gateway.httpUrl,
    grpcUrl,
    async close() {
      await gateway.close({ graceMs: 0 });
      await plane.close();
      await db.drop();
      repo.remove();
    },
  };
}
