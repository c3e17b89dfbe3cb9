import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type * as grpc from '@grpc/grpc-js';
import type { Ragged } from '@servable/contracts';
import { VERSION_STATES, type ReplicaVersionState, type VersionState } from '@servable/contracts/admin-api';
import { loadGrpcObject, type servableCommonV1, type servableInferenceV1, type servableTokenizerV1 } from '@servable/contracts/grpc';
import { SpanKind, endSpan, startSpan, tracingEnabled, type RequestContext } from '@servable/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { GatewayMetrics } from '../metrics/gateway.metrics';
import { Coalescer, type Member } from './coalescer';
import { GrpcEndpoint } from './grpc-downstream';
import { ReplicaSet } from './replica-set';
import { raggedOf, TokenIdCache } from './token-id-cache';

function service(root: grpc.GrpcObject, path: string): grpc.ServiceClientConstructor {
  const found = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], root);
  if (typeof found !== 'function') throw new Error(`service ${path} is not in the loaded protos`);
  return found as grpc.ServiceClientConstructor;
}

export interface EncodedTexts {
  ids: servableCommonV1.RaggedTensor;
  tokenizerHash: string;
  /** Rows the tokenizer served from a cache level. */
  cacheHits: number;
  /** Indexes of the texts that encoded to more than max_length ids and were cut to it, in order. */
  truncated: number[];
}

interface EncodeItem {
  tokenizerHash: string;
  texts: string[];
  maxLength: number;
  context?: RequestContext;
}

/** The key under which inference replicas hold a version (Replica.holds); a uint64 version arrives as its decimal string. */
export const versionKey = (model: string, version: number | string) => `${model}/${version}`;

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
  private readonly encodes: Coalescer<EncodeItem, EncodedTexts>;
  private readonly nearCache?: TokenIdCache;
  private readonly nearHits: { inc(n?: number): void };
  private readonly nearMisses: { inc(n?: number): void };
  private readonly nearBytes: { set(n: number): void };

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, metrics: GatewayMetrics) {
    const root = loadGrpcObject(['tokenizer', 'inference', 'health']);
    const health = service(root, 'grpc.health.v1.Health');
    const endpoints = (name: string, path: string, streamed?: Record<string, string>) =>
      [GrpcEndpoint.factory(name, service(root, path), streamed), GrpcEndpoint.factory(name, health)] as const;
    const options = {
      resolveIntervalMs: config.DATA_PLANE_RESOLVE_INTERVAL_MS,
      healthIntervalMs: config.DATA_PLANE_HEALTH_INTERVAL_MS,
      onRetry: (name: string) => metrics.retries.inc({ component: name }),
      onChange: () => this.onChange(),
    };
    this.tokenizer = new ReplicaSet('tokenizer', config.TOKENIZER_URL, ...endpoints('tokenizer', 'servable.tokenizer.v1.TokenizerService'), options);
    // Predicts go as items of one PredictStream per replica (GrpcItemStream): each is answered as
    // soon as its own rows have run, so they are not merged here as the tokenizer's Encodes are.
    this.inference = new ReplicaSet('inference', config.INFERENCE_URL, ...endpoints('inference', 'servable.inference.v1.InferenceService', { predict: 'PredictStream' }), options);
    // The bound is per replica that can take the call, so more replicas get more merged calls at once.
    const perReplica = config.DOWNSTREAM_MAX_IN_FLIGHT;
    const maxRows = config.DOWNSTREAM_MAX_ROWS;
    const earlyCallRows = config.DOWNSTREAM_EARLY_CALL_ROWS;
    this.encodes = new Coalescer((members) => this.encodeMerged(members), { maxInFlight: (_, next) => perReplica * this.tokenizer.spread(next.tokenizerHash), maxRows, earlyCallRows });
    if (config.GATEWAY_TOKEN_CACHE_BYTES > 0) this.nearCache = new TokenIdCache(config.GATEWAY_TOKEN_CACHE_BYTES);
    // Children bound once: prom-client checks and hashes a label object on every inc.
    this.nearHits = metrics.tokenCacheLookups.labels('hit');
    this.nearMisses = metrics.tokenCacheLookups.labels('miss');
    this.nearBytes = metrics.tokenCacheBytes;
  }

  async onModuleInit(): Promise<void> {
    await Promise.all([this.tokenizer.start(), this.inference.start()]);
  }

  /** Called when a replica appears, disappears, changes health or turns out to lack what it should hold. */
  whenReplicasChange(listener: () => void): void {
    this.onChange = listener;
  }

  /**
   * Token ids for texts: from the near cache where it has them (TokenIdCache), the rest from the
   * tokenizer, where concurrent calls for the same tokenizer and max_length leave as one (Coalescer).
   * `cacheHits` counts rows from either cache level.
   */
  async encode(tokenizerHash: string, texts: string[], maxLength: number, deadline: number, context?: RequestContext): Promise<EncodedTexts> {
    const scope = `${tokenizerHash}/${maxLength}`;
    const cache = this.nearCache;
    const near = cache?.lookup(scope, texts);
    const hits = near ? texts.length - near.missing.length : 0;
    if (hits > 0) this.nearHits.inc(hits);
    if (near && hits === texts.length) return { ids: raggedOf(near.found as Int32Array[]), tokenizerHash, cacheHits: hits, truncated: near.truncated };
    this.nearMisses.inc(texts.length - hits);
    const sent = near && hits > 0 ? near.missing.map((i) => texts[i]) : texts;
    const encoded = await this.encodes.submit(scope, { item: { tokenizerHash, texts: sent, maxLength, context }, rows: sent.length, deadline });
    if (!cache || !near) return encoded;
    const rows = cache.store(scope, sent, encoded.ids, encoded.truncated);
    this.nearBytes.set(cache.bytes);
    if (hits === 0) return encoded;
    near.missing.forEach((i, j) => (near.found[i] = rows[j]));
    const truncated = near.truncated.concat(encoded.truncated.map((j) => near.missing[j])).sort((a, b) => a - b);
    return { ids: raggedOf(near.found as Int32Array[]), tokenizerHash: encoded.tokenizerHash, cacheHits: hits + encoded.cacheHits, truncated };
  }

  private async encodeMerged(members: Member<EncodeItem>[]): Promise<EncodedTexts[]> {
    const { tokenizerHash, maxLength, context } = members[0].item;
    const texts = members.length === 1 ? members[0].item.texts : members.flatMap((m) => m.item.texts);
    const request: Partial<servableTokenizerV1.EncodeRequest> = { tokenizerHash, texts, maxLength };
    // The merged call runs in the first request's trace. Every other request gets a span of its
    // own for it, which the call's span links to (as inference's batch spans link their requests),
    // so each trace shows its tokenizer time.
    const waits = members.length > 1 && tracingEnabled() ? members.slice(1).flatMap((m) => mergedSpan(m, members.length)) : [];
    let reply: servableTokenizerV1.EncodeResponse;
    try {
      // The latest deadline of the merged requests: none is cut short by another's.
      const links = waits.map((span) => span.spanContext());
      reply = await this.tokenizer.call<servableTokenizerV1.EncodeResponse>('encode', request, { deadline: latest(members), context, links }, tokenizerHash);
      for (const span of waits) endSpan(span);
    } catch (err) {
      for (const span of waits) endSpan(span, err);
      throw err;
    }
    const ids = reply.ids!;
    const cut = truncatedRows(reply, maxLength);
    if (members.length === 1) return [{ ids, tokenizerHash: reply.tokenizerHash, cacheHits: reply.cacheHits ?? 0, truncated: cut }];
    const parts = splitRagged(ids, members.map((m) => m.item.texts.length));
    let row = 0;
    return parts.map((part) => {
      const rows = part.rowLengths.length;
      const cacheHits = (reply.cached ?? []).slice(row, row + rows).filter(Boolean).length;
      const truncated = cut.filter((r) => r >= row && r < row + rows).map((r) => r - row);
      row += rows;
      return { ids: part, tokenizerHash: reply.tokenizerHash, cacheHits, truncated };
    });
  }

  /** Tokens with offsets (Tokenize). It leaves the tokenizer's hot-text cache alone, so it never shows up in cache hits. */
  tokenize(
    tokenizerHash: string,
    texts: string[],
    options: { maxLength: number; addSpecialTokens: boolean },
    deadline: number,
    context?: RequestContext,
  ): Promise<servableTokenizerV1.TokenizeResponse> {
    const request: Partial<servableTokenizerV1.TokenizeRequest> = { tokenizerHash, texts, ...options };
    return this.tokenizer.call<servableTokenizerV1.TokenizeResponse>('tokenize', request, { deadline, context }, tokenizerHash);
  }

  /**
   * Predict on an inference replica that holds the version, as an item of that replica's
   * PredictStream: inference batches it with whatever else is queued and answers it as soon as
   * its own rows have run.
   */
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
    return this.inference.call<servableInferenceV1.PredictResponse>('predict', request, { deadline, context, cancellation: context?.cancellation }, versionKey(model, version));
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

const latest = (members: Member<unknown>[]) => Math.max(...members.map((m) => m.deadline));

/**
 * The rows an Encode answer says were cut. A tokenizer from before the per-row flags (during a
 * rolling update) only counts them: then a row at max_length counts as cut, since any cut row is.
 */
function truncatedRows(reply: servableTokenizerV1.EncodeResponse, maxLength: number): number[] {
  const flags = reply.truncated ?? [];
  const lengths = reply.ids?.rowLengths ?? [];
  const out: number[] = [];
  if (flags.length === lengths.length) {
    for (let i = 0; i < flags.length; i++) if (flags[i]) out.push(i);
  } else if ((reply.specialTokens?.truncatedRows ?? 0) > 0 && maxLength > 0) {
    for (let i = 0; i < lengths.length; i++) if (lengths[i] === maxLength) out.push(i);
  }
  return out;
}

/** A merged call's ragged rows, cut back into each member's share. */
function splitRagged(ids: servableCommonV1.RaggedTensor, counts: number[]): servableCommonV1.RaggedTensor[] {
  const values = Buffer.from(ids.values.buffer, ids.values.byteOffset, ids.values.byteLength);
  const out: servableCommonV1.RaggedTensor[] = [];
  let row = 0;
  let offset = 0;
  for (const n of counts) {
    const rowLengths = ids.rowLengths.slice(row, row + n);
    const bytes = rowLengths.reduce((a, b) => a + b, 0) * Int32Array.BYTES_PER_ELEMENT;
    out.push({ dtype: ids.dtype, values: values.subarray(offset, offset + bytes), rowLengths });
    row += n;
    offset += bytes;
  }
  return out;
}

/** A request's span for an Encode merged with others' (see encodeMerged); none without a request context. */
function mergedSpan(member: Member<EncodeItem>, merged: number) {
  const started = member.item.context
    ? startSpan('tokenizer encode (merged)', member.item.context, {
        kind: SpanKind.INTERNAL,
        attributes: { 'servable.texts': member.item.texts.length, 'servable.merged_requests': merged },
      })
    : undefined;
  return started ? [started.span] : [];
}
