import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type * as grpc from '@grpc/grpc-js';
import type { Ragged } from '@servable/contracts';
import {
  loadGrpcObject,
  type grpcHealthV1,
  type servableCommonV1,
  type servableInferenceV1,
  type servableTokenizerV1,
} from '@servable/contracts/grpc';
import { withTimeout, type RequestContext } from '@servable/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { GatewayMetrics } from '../metrics/gateway.metrics';
import { GrpcDownstream } from './grpc-downstream';

type Ctor = ConstructorParameters<typeof GrpcDownstream>[2];

function service(root: grpc.GrpcObject, path: string): Ctor {
  const found = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], root);
  if (typeof found !== 'function') throw new Error(`service ${path} is not in the loaded protos`);
  return found as Ctor;
}

export interface EncodedTexts {
  ids: servableCommonV1.RaggedTensor;
  tokenizerHash: string;
  /** Rows the tokenizer served from a cache level. */
  cacheHits: number;
}

/** What /readyz reports per data-plane service. */
export type DownstreamState = 'up' | `down: ${string}`;

/** The gateway's two data-plane hops: tokenizer Encode and inference Predict / GetModelStatus. */
@Injectable()
export class DownstreamService implements OnModuleDestroy {
  readonly tokenizer: GrpcDownstream;
  readonly inference: GrpcDownstream;
  private readonly tokenizerHealth: GrpcDownstream;
  private readonly inferenceHealth: GrpcDownstream;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, metrics: GatewayMetrics) {
    const root = loadGrpcObject(['tokenizer', 'inference', 'health']);
    const retried = (name: string) => metrics.retries.inc({ service: name });
    this.tokenizer = new GrpcDownstream('tokenizer', config.TOKENIZER_URL, service(root, 'servable.tokenizer.v1.TokenizerService'), retried);
    this.inference = new GrpcDownstream('inference', config.INFERENCE_URL, service(root, 'servable.inference.v1.InferenceService'), retried);
    const health = service(root, 'grpc.health.v1.Health');
    this.tokenizerHealth = new GrpcDownstream('tokenizer', config.TOKENIZER_URL, health);
    this.inferenceHealth = new GrpcDownstream('inference', config.INFERENCE_URL, health);
  }

  async encode(tokenizerHash: string, texts: string[], maxLength: number, deadline: number, context?: RequestContext): Promise<EncodedTexts> {
    const request: Partial<servableTokenizerV1.EncodeRequest> = { tokenizerHash, texts, maxLength };
    const reply = await this.tokenizer.call<servableTokenizerV1.EncodeResponse>('encode', request, { deadline, context });
    return { ids: reply.ids!, tokenizerHash: reply.tokenizerHash, cacheHits: reply.cacheHits ?? 0 };
  }

  predict(
    model: string,
    version: number,
    inputIds: Ragged | servableCommonV1.RaggedTensor,
    deadline: number,
    context?: RequestContext,
  ): Promise<servableInferenceV1.PredictResponse> {
    const ragged: servableCommonV1.RaggedTensor =
      'values' in inputIds && inputIds.values instanceof Int32Array
        ? { dtype: 'DATA_TYPE_INT32', values: Buffer.from(inputIds.values.buffer, inputIds.values.byteOffset, inputIds.values.byteLength), rowLengths: (inputIds as Ragged).rowLengths }
        : (inputIds as servableCommonV1.RaggedTensor);
    const request = { modelSpec: { name: model, version }, inputs: { input_ids: { ragged } } };
    return this.inference.call<servableInferenceV1.PredictResponse>('predict', request, { deadline, context });
  }

  async modelStatus(model: string, deadline: number): Promise<servableInferenceV1.ModelVersionStatus[]> {
    const reply = await this.inference.call<servableInferenceV1.GetModelStatusResponse>('getModelStatus', { modelSpec: { name: model } }, { deadline });
    return reply.modelVersionStatus;
  }

  /** grpc.health.v1 Check of each hop, raced against a short timeout so a hung service reads as down. */
  async readiness(timeoutMs = 1_000): Promise<Record<'tokenizer' | 'inference', DownstreamState>> {
    const check = async (client: GrpcDownstream): Promise<DownstreamState> => {
      try {
        const reply = await withTimeout(
          client.call<grpcHealthV1.HealthCheckResponse>('check', { service: '' }, { deadline: Date.now() + timeoutMs }),
          timeoutMs + 100,
          `${client.name} health check`,
        );
        return reply.status === 'SERVING' ? 'up' : `down: ${reply.status}`;
      } catch (err) {
        return `down: ${(err as Error).message}`;
      }
    };
    const [tokenizer, inference] = await Promise.all([check(this.tokenizerHealth), check(this.inferenceHealth)]);
    return { tokenizer, inference };
  }

  onModuleDestroy(): void {
    for (const c of [this.tokenizer, this.inference, this.tokenizerHealth, this.inferenceHealth]) c.close();
  }
}
