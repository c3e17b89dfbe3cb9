import { Controller } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { SpanKind, endSpan, grpcRequestContext, startSpan, tracingEnabled } from '@servable/observability';
import { servableTokenizerV1 as v1 } from '@servable/contracts/grpc';
import { EncodeService } from '../encoding/encode.service';
import { TokenizeService } from '../encoding/tokenize.service';
import type { TokenizerHandle } from '../registry/tokenizer-handle';
import { TokenizerRegistry } from '../registry/tokenizer-registry.service';
import { TokenizerMetrics } from '../metrics/tokenizer.metrics';

function info(h: TokenizerHandle): v1.TokenizerInfo {
  return {
    tokenizerHash: h.hash,
    vocabSize: h.vocabSize,
    padId: h.padId,
    unkId: h.unkId,
    modelType: h.modelType,
    loadedAtUnixMs: String(h.loadedAt),
    sizeBytes: String(h.sizeBytes),
  };
}

@Controller()
@v1.TokenizerServiceControllerMethods()
export class TokenizerController implements v1.TokenizerServiceController {
  constructor(
    private readonly encoder: EncodeService,
    private readonly tokenizer: TokenizeService,
    private readonly registry: TokenizerRegistry,
    private readonly metrics: TokenizerMetrics,
  ) {}

  async encode(request: v1.EncodeRequest, metadata?: Metadata): Promise<v1.EncodeResponse> {
    if (!tracingEnabled()) return this.encoder.toResponse(await this.encoder.encode(request));
    const traced = startSpan('Encode', grpcRequestContext(metadata), {
      kind: SpanKind.SERVER,
      attributes: { 'rpc.system': 'grpc', 'rpc.method': 'Encode', 'servable.texts': request.texts?.length ?? 0, 'servable.tokenizer': request.tokenizerHash },
    });
    try {
      const result = await this.encoder.encode(request);
      traced?.span.setAttribute('servable.cache_hits', result.cached.filter(Boolean).length);
      endSpan(traced?.span);
      return this.encoder.toResponse(result);
    } catch (err) {
      endSpan(traced?.span, err);
      throw err;
    }
  }

  tokenize(request: v1.TokenizeRequest): Promise<v1.TokenizeResponse> {
    return this.tokenizer.tokenize(request);
  }

  async loadTokenizer(request: v1.LoadTokenizerRequest): Promise<v1.LoadTokenizerResponse> {
    const { handle, newlyLoaded } = await this.registry.load(request.tokenizerHash);
    this.metrics.loadedTokenizers.set(this.registry.list().length);
    return { tokenizer: info(handle), newlyLoaded };
  }

  listTokenizers(): v1.ListTokenizersResponse {
    return { tokenizers: this.registry.list().map(info) };
  }
}
