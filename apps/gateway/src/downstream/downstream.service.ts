import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type * as grpc from '@grpc/grpc-js';
import type { Ragged } from '@servable/contracts';
import { VERSION_STATES, type ReplicaVersionState, type VersionState } from '@servable/contracts/admin-api';
import { loadGrpcObject, type servableCommonV1, type servableInferenceV1, type servableTokenizerV1 } from '@servable/contracts/grpc';
import type { RequestContext } from '@servable/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { GatewayMetrics } from '../metrics/gateway.metrics';
import type { ClientCtor } from './grpc-downstream';
import { ReplicaSet } from './replica-set';

function service(root: grpc.GrpcObject, path: string): ClientCtor {
  const found = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], root);
  if (typeof found !== 'function') throw new Error(`service ${path} is not in the loaded protos`);
  return found as ClientCtor;
}

export interface EncodedTexts {
  ids: servableCommonV1.RaggedTensor;
  tokenizerHash: string;
  /** Rows the tokenizer served from a cache level. */
  cacheHits: number;
}

/** The key under which inference replicas hold a version (Replica.holds). */
export const versionKey = (model: string, version: number | string) => `${model}/${Number(version)}`;

/**
 * The gateway's two data-plane hops, each over every replica behind its address: Encode
 * goes to a tokenizer replica that holds the tokenizer, Predict to an inference replica
 * that holds the version AVAILABLE (Replica.holds, kept by the reconcile loop).
 */
@Injectable()
export class DownstreamService implements OnModuleInit, OnModuleDestroy {
  readonly tokenizer: ReplicaSet;
  readonly inference: ReplicaSet;
  private onChange: () => void = () => undefined;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, metrics: GatewayMetrics) {
    const root = loadGrpcObject(['tokenizer', 'inference', 'health']);
    const health = service(root, 'grpc.health.v1.Health');
    const options = {
      resolveIntervalMs: config.DATA_PLANE_RESOLVE_INTERVAL_MS,
      healthIntervalMs: config.DATA_PLANE_HEALTH_INTERVAL_MS,
      onRetry: (name: string) => metrics.retries.inc({ component: name }),
      onChange: () => this.onChange(),
    };
    this.tokenizer = new ReplicaSet('tokenizer', config.TOKENIZER_URL, service(root, 'servable.tokenizer.v1.TokenizerService'), health, options);
    this.inference = new ReplicaSet('inference', config.INFERENCE_URL, service(root, 'servable.inference.v1.InferenceService'), health, options);
  }

  async onModuleInit(): Promise<void> {
    await Promise.all([this.tokenizer.start(), this.inference.start()]);
  }

  /** Called when a replica appears, disappears, changes health or turns out to lack what it should hold. */
  whenReplicasChange(listener: () => void): void {
    this.onChange = listener;
  }

  async encode(tokenizerHash: string, texts: string[], maxLength: number, deadline: number, context?: RequestContext): Promise<EncodedTexts> {
    const request: Partial<servableTokenizerV1.EncodeRequest> = { tokenizerHash, texts, maxLength };
    const reply = await this.tokenizer.call<servableTokenizerV1.EncodeResponse>('encode', request, { deadline, context }, tokenizerHash);
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
    return this.inference.call<servableInferenceV1.PredictResponse>('predict', request, { deadline, context }, versionKey(model, version));
  }

  /** Each inference replica's state of a version as last seen (END where it holds nothing), with its health. */
  replicaStates(model: string, version: number): ReplicaVersionState[] {
    const key = versionKey(model, version);
    return this.inference.replicas().map((r) => {
      const held = r.holds.get(key);
      const state = held && VERSION_STATES.includes(held.state as VersionState) ? (held.state as VersionState) : 'END';
      return { address: r.address, serving: r.serving, state, ...(held?.detail ? { detail: held.detail } : {}) };
    });
  }

  onModuleDestroy(): void {
    this.tokenizer.close();
    this.inference.close();
  }
}
