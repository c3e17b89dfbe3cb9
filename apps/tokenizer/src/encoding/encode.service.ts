import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, ServableError, int32ToBytes, packRagged } from '@servable/contracts';
import type { servableTokenizerV1 } from '@servable/contracts/grpc';
import { EncodeCache } from '../cache/encode-cache.service';
import { TOKENIZER_CONFIG, type TokenizerConfig } from '../config/tokenizer.config';
import { TokenizerMetrics } from '../metrics/tokenizer.metrics';
import { TokenizerRegistry } from '../registry/tokenizer-registry.service';
import { InvalidInput, validateEncodeRequest, type EncodeParams } from './encode-request';

export interface EncodeResult {
  tokenizerHash: string;
  values: Int32Array;
  rowLengths: number[];
  addedPerRow: number;
  addedSpecialTokens: boolean;
  truncation: servableTokenizerV1.Truncation;
  truncatedRows: number;
  /** Per text: cut to max_length. */
  truncated: boolean[];
  padId: number;
  /** Per text: served from a cache level. */
  cached: boolean[];
}

/**
 * Encode: validate, read both cache levels for the whole batch at once, encode
 * the misses in one native encodeBatch call, and pack the rows unpadded.
 */
const TRUNCATED = 1;

@Injectable()
export class EncodeService {
  constructor(
    @Inject(TOKENIZER_CONFIG) private readonly config: TokenizerConfig,
    private readonly registry: TokenizerRegistry,
    private readonly cache: EncodeCache,
    private readonly metrics: TokenizerMetrics,
  ) {}

  async encode(request: servableTokenizerV1.EncodeRequest): Promise<EncodeResult> {
    const stop = this.metrics.latency.startTimer();
    this.metrics.inFlight.inc();
    try {
      const result = await this.encodeValidated(this.validate(request));
      this.metrics.requests.inc({ code: 'OK' });
      stop({ code: 'OK' });
      return result;
    } catch (err) {
      const code = err instanceof ServableError ? err.code : ErrorCode.INTERNAL;
      if (err instanceof InvalidInput) this.metrics.invalidInputs.inc({ reason: err.reason });
      this.metrics.requests.inc({ code });
      stop({ code });
      throw err;
    } finally {
      this.metrics.inFlight.dec();
    }
  }

  private validate(request: servableTokenizerV1.EncodeRequest): EncodeParams {
    this.metrics.texts.inc(request.texts?.length ?? 0);
    return validateEncodeRequest(request, this.config);
  }

  private async encodeValidated(p: EncodeParams): Promise<EncodeResult> {
    const handle = this.registry.get(p.tokenizerHash);
    // With no truncation allowed, encode in full and refuse rows over the limit afterwards.
    const variant = p.side ? handle.variant(p.maxLength, p.side) : handle.base;
    const prefix = `tok:v1:${p.tokenizerHash}:${p.side ? p.maxLength : 0}:${p.side ?? 'r'}:${p.addSpecialTokens ? 1 : 0}`;

    // Duplicate texts in one batch are looked up and encoded once.
    const unique = new Map<string, number>();
    const slot = p.texts.map((t) => {
      let i = unique.get(t);
      if (i === undefined) unique.set(t, (i = unique.size));
      return i;
    });
    const texts = [...unique.keys()];
    const keys = texts.map((t) => EncodeCache.key(prefix, t));
    const { found } = await this.cache.lookup(keys);

    const missing = found.flatMap((v, i) => (v ? [] : [i]));
    const missingSet = new Set(missing);
    if (missing.length > 0) {
      const encodings = await variant.encodeBatch(
        missing.map((i) => texts[i]),
        { addSpecialTokens: p.addSpecialTokens },
      );
      const fresh: [string, Int32Array][] = [];
      encodings.forEach((enc, j) => {
        // Word 0 of a cached row records whether truncation cut it, so a
        // cache hit reports truncation exactly as a fresh encode does.
        const ids = enc.getIds();
        const entry = new Int32Array(ids.length + 1);
        // getOverflowing() materialises objects; only a row at the limit can have been cut.
        entry[0] = p.maxLength > 0 && ids.length === p.maxLength && enc.getOverflowing().length > 0 ? TRUNCATED : 0;
        entry.set(ids, 1);
        found[missing[j]] = entry;
        fresh.push([keys[missing[j]], entry]);
      });
      this.cache.store(fresh);
    }

    const rows = slot.map((i) => (found[i] as Int32Array).subarray(1));
    let truncatedRows = 0;
    const truncated = new Array<boolean>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      if (p.maxLength > 0 && !p.side && rows[i].length > p.maxLength) {
        throw new InvalidInput(
          'needs_truncation',
          `texts[${i}] encodes to ${rows[i].length} ids, over max_length ${p.maxLength}, and truncation is TRUNCATION_NONE`,
        );
      }
      truncated[i] = ((found[slot[i]] as Int32Array)[0] & TRUNCATED) !== 0;
      if (truncated[i]) truncatedRows++;
      this.metrics.tokensPerText.observe(rows[i].length);
    }

    return {
      tokenizerHash: p.tokenizerHash,
      ...packRagged(rows),
      addedPerRow: p.addSpecialTokens ? handle.addedPerRow : 0,
      addedSpecialTokens: p.addSpecialTokens,
      truncation: p.truncation,
      truncatedRows,
      truncated,
      padId: handle.padId,
      cached: slot.map((i) => !missingSet.has(i)),
    };
  }

  toResponse(r: EncodeResult): servableTokenizerV1.EncodeResponse {
    return {
      tokenizerHash: r.tokenizerHash,
      ids: { dtype: 'DATA_TYPE_INT32', values: int32ToBytes(r.values), rowLengths: r.rowLengths },
      specialTokens: {
        added: r.addedSpecialTokens,
        addedPerRow: r.addedPerRow,
        truncatedRows: r.truncatedRows,
        truncation: r.truncation,
        padId: r.padId,
      },
      cacheHits: r.cached.filter(Boolean).length,
      cached: r.cached,
      truncated: r.truncated,
    };
  }
}
