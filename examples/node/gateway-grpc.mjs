// Servable's own gRPC API (servable.gateway.v1.GatewayService).
import { GRPC_ADDRESS, MODEL, call, insecure, load, main } from './_common.mjs';

main(async () => {
  const pkg = load(['servable/gateway/v1/gateway.proto']);
  const client = new pkg.servable.gateway.v1.GatewayService(GRPC_ADDRESS, insecure());
  try {
    const reply = await call(client, 'Classify', { model_spec: { name: MODEL }, texts: ['WIN a FREE cruise, click now!!!'] });
    for (const p of reply.predictions) console.log(`${p.label}\t${JSON.stringify(p.scores)}`);
    console.log(`model_version ${reply.model_version}`);
  } finally {
    client.close();
  }
});
