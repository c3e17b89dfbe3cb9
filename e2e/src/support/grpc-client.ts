import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { LOADER_OPTIONS } from '@servable/contracts/grpc';
import { ROOT } from './platform';

/**
 * A plain grpc-js client from the repository's proto files, as any outside
 * client would build one: no Servable code involved but the loader options the
 * services themselves use, so both sides agree on a message's JS shape.
 */
export function grpcClients(url: string, tokenizerUrl?: string) {
  const definition = protoLoader.loadSync(['servable/gateway/v1/gateway.proto', 'inference/grpc_predict_v2.proto', 'servable/tokenizer/v1/tokenizer.proto'], {
    ...LOADER_OPTIONS,
    includeDirs: [join(ROOT, 'libs/contracts/proto')],
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a dynamically loaded package
  const root = grpc.loadPackageDefinition(definition) as any;
  const credentials = grpc.credentials.createInsecure();
  const gateway: grpc.Client = new root.servable.gateway.v1.GatewayService(url, credentials);
  const oip: grpc.Client = new root.inference.GRPCInferenceService(url, credentials);
  const tokenizer: grpc.Client | undefined = tokenizerUrl ? new root.servable.tokenizer.v1.TokenizerService(tokenizerUrl, credentials) : undefined;
  return {
    gateway,
    oip,
    tokenizer,
    close() {
      gateway.close();
      oip.close();
      tokenizer?.close();
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- replies are protocol JSON
export function unary(client: grpc.Client, method: string, request: unknown, metadata = new grpc.Metadata()): Promise<any> {
  return new Promise((resolve, reject) =>
    (client as unknown as Record<string, (r: unknown, m: grpc.Metadata, cb: (e: Error | null, v: unknown) => void) => void>)[method](
      request,
      metadata,
      (err, reply) => (err ? reject(err) : resolve(reply)),
    ),
  );
}

/**
 * A client of one inference replica's own gRPC API (LoadModel, GetModelStatus, Predict), to
 * ask that replica what it holds rather than what the gateway says it holds.
 */
export function inferenceClient(url: string): grpc.Client {
  const definition = protoLoader.loadSync(['servable/inference/v1/inference.proto'], {
    ...LOADER_OPTIONS,
    includeDirs: [join(ROOT, 'libs/contracts/proto')],
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a dynamically loaded package
  const root = grpc.loadPackageDefinition(definition) as any;
  return new root.servable.inference.v1.InferenceService(url, grpc.credentials.createInsecure());
}
