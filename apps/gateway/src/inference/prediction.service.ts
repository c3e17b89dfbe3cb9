import { Inject, Injectable, Logger } from '@nestjs/common';
import { ErrorCode, ServableError, bytesToFloat32, isWellFormedText, packRagged, type Ragged } from '@servable/contracts';
import { int64ToNumber, type servableCommonV1 } from '@servable/contracts/grpc';
import { SpanKind, UNKNOWN_MODEL, endSpan, requestLogFields, startSpan } from '@servable/observability';
import { MetricsStore, labelAgreement } from '@servable/persistence';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { RoutingTable } from '../control-plane/routing-table.service';
import { DownstreamService } from '../downstream/downstream.service';
import { GatewayMetrics } from '../metrics/gateway.metrics';
import { requestSource } from '../metrics/request-source';
import type { InferenceCall } from '../metrics/refused-requests';
import type { HeaderBag } from '@servable/routing';
import { ModelCatalog, type ResolvedVersion } from '../models/model-catalog.service';
import { ConcurrencyLimiter } from './concurrency-limiter';
import { assertBeforeDeadline } from '../request-metadata/deadline';
import type { Classification, PredictCommand, PredictOutcome } from './prediction.types';

const PROBABILITIES = 'probabilities';
/** Set on an error serve() counted, so the exception filters do not count it again. */
const COUNTED = Symbol('servable.request-counted');
/** Shadow requests in flight; beyond it a shadow copy is skipped rather than queued, so mirroring never adds load it cannot shed. */
const MAX_SHADOW_IN_FLIGHT = 64;

/**
 * The classify/predict use-case, the same for every transport: bound
 * concurrency, resolve the version, tokenize with that version's pinned
 * tokenizer (or check the caller's), predict, and record metrics.
 */
@Injectable()
export class PredictionService {
  readonly limiter: ConcurrencyLimiter;
  private readonly logger = new Logger('PredictionService');
  private shadowsInFlight = 0;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly catalog: ModelCatalog,
    private readonly downstream: DownstreamService,
    private readonly metrics: GatewayMetrics,
    private readonly store: MetricsStore,
    private readonly routing: RoutingTable,
  ) {
    this.limiter = new ConcurrencyLimiter(config.MAX_CONCURRENT_REQUESTS);
  }

  /**
   * One request. With tracing on it is a server span (continuing the caller's
   * traceparent) whose id the tokenizer and inference hops carry on; without, the
   * request runs as is.
   */
  predict(command: PredictCommand): Promise<PredictOutcome> {
    const model = this.catalog.knows(command.model) ? command.model : UNKNOWN_MODEL;
    const traced = startSpan(`predict ${model}`, command.context, {
      kind: SpanKind.SERVER,
      attributes: { 'servable.model': model, 'servable.api': command.api, 'servable.request_id': command.context.requestId },
    });
    if (!traced) return this.serve(command);
    return this.serve({ ...command, context: traced.context }).then(
      (outcome) => {
        traced.span.setAttribute('servable.model_version', outcome.version);
        endSpan(traced.span);
        return outcome;
      },
      (err: unknown) => {
        endSpan(traced.span, err);
        throw err;
      },
    );
  }

  private async serve(command: PredictCommand): Promise<PredictOutcome> {
    const started = performance.now();
    // Only registered models become label values: the name comes from the caller's URL.
    const labels = { model: this.catalog.knows(command.model) ? command.model : UNKNOWN_MODEL, version: '', api: command.api };
    // Only the request counter carries the source: one more label on one series keeps the histograms' cardinality as it was.
    const source = requestSource(command.selector.headers);
    let release: (() => void) | undefined;
    let resolved: ResolvedVersion | undefined;
    try {
      release = this.tryAcquire();
      this.metrics.inFlight.inc();
      this.validate(command);
      resolved = this.catalog.resolve(command.model, command.selector);
      labels.model = resolved.model;
      labels.version = String(resolved.version);
      const outcome = await this.run(command, resolved, started);
      this.metrics.requests.inc({ ...labels, code: 'OK', source });
      this.metrics.latency.observe(labels, outcome.timings.totalMs / 1000);
      if (command.input.kind === 'texts') this.metrics.tokenization.observe(labels, outcome.timings.tokenizationMs / 1000);
      this.recordSample(command, resolved.version, outcome.timings);
      if (resolved.shadowVersion !== undefined) this.shadow(command, resolved.shadowVersion, outcome);
      this.compareWithStable(command, resolved, outcome);
      return outcome;
    } catch (err) {
      const code = err instanceof ServableError ? err.code : ErrorCode.INTERNAL;
      this.metrics.requests.inc({ ...labels, code, source });
      if (typeof err === 'object' && err !== null) (err as Record<symbol, boolean>)[COUNTED] = true;
      this.metrics.latency.observe(labels, (performance.now() - started) / 1000);
      // A request that never reached a version (unknown model, bad input) belongs to no version's series.
      if (resolved) this.recordSample(command, resolved.version, { totalMs: performance.now() - started }, code);
      throw err;
    } finally {
      if (release) {
        this.metrics.inFlight.dec();
        release();
      }
    }
  }

  /** One request into the control plane's 10 s buckets (memory only; written in batches off the request path). */
  private recordSample(command: PredictCommand, version: number, timings: Partial<PredictOutcome['timings']> & { totalMs: number }, errorCode?: string): void {
    const texts = command.input.kind === 'texts' ? command.input.texts.length : 0;
    this.store.record({
      model: command.model,
      version,
      latencyMs: timings.totalMs,
      errorCode,
      tokenizeMs: texts ? timings.tokenizationMs : undefined,
      inferenceMs: timings.inferenceMs,
      batchSize: timings.batchSize,
      cacheHits: texts && timings.cacheHits !== undefined ? timings.cacheHits : undefined,
      cacheLookups: texts && timings.cacheHits !== undefined ? texts : undefined,
    });
  }

  /**
   * Mirrors a served request to the shadow version, after the caller has its answer:
   * the shadow's answer is discarded, and how often its top labels agree with the
   * primary's, and how long it took, are recorded. Its failures never reach the caller.
   */
  private shadow(command: PredictCommand, version: number, primary: PredictOutcome): void {
    this.mirror(command, version, primary, { kind: 'shadow', candidate: version }, (agreement, latencyMs) =>
      this.store.recordShadow({ model: command.model, version, agreement, latencyMs }),
    );
  }

  /**
   * During a canary run, a share (mirrorShare) of the requests the split sent to the canary
   * also go to stable, after the caller has its answer, so the analysis can compare both
   * answers for the same input. The count and agreement land on the canary's row.
   */
  private compareWithStable(command: PredictCommand, resolved: ResolvedVersion, canaryOutcome: PredictOutcome): void {
    const run = this.routing.get(command.model)?.canaryRun;
    if (!run || resolved.version !== run.canary || (resolved.reason !== 'canary' && resolved.reason !== 'sticky-canary')) return;
    if (Math.random() * 100 >= run.mirrorShare) return;
    this.mirror(command, run.stable, canaryOutcome, { kind: 'canary', candidate: run.canary }, (agreement) =>
      this.store.recordComparison({ model: command.model, version: run.canary, agreement }),
    );
  }

  /**
   * Sends the request to `version` in the background and reports how its top labels agree
   * with `primary`'s; `candidate` is the version under test (the shadow, or the canary whose
   * answer is compared with stable's).
   */
  private mirror(
    command: PredictCommand,
    version: number,
    primary: PredictOutcome,
    comparison: { kind: 'shadow' | 'canary'; candidate: number },
    record: (agreement: number, latencyMs: number) => void,
  ): void {
    if (this.shadowsInFlight >= MAX_SHADOW_IN_FLIGHT) return;
    this.shadowsInFlight++;
    const started = performance.now();
    const deadline = Date.now() + this.config.REQUEST_TIMEOUT_MS;
    const isShadow = comparison.kind === 'shadow';
    void (async () => {
      const resolved = this.catalog.resolve(command.model, { version });
      const shadow = await this.run({ ...command, deadline }, resolved, started);
      const expected = topLabels(primary);
      const got = topLabels(shadow);
      record(labelAgreement(expected, got), performance.now() - started);
      const labels = { model: command.model, version: String(comparison.candidate), kind: comparison.kind };
      const agreeing = expected.filter((label, i) => label === got[i]).length;
      this.metrics.comparedRows.inc({ ...labels, result: 'agree' }, agreeing);
      this.metrics.comparedRows.inc({ ...labels, result: 'disagree' }, expected.length - agreeing);
      if (isShadow) this.metrics.shadowRequests.inc({ model: command.model, version: String(version), code: 'OK' });
    })()
      .catch((err: Error) => {
        const code = err instanceof ServableError ? err.code : ErrorCode.INTERNAL;
        if (isShadow) this.metrics.shadowRequests.inc({ model: command.model, version: String(version), code });
        this.logger.debug({ ...requestLogFields(command.context) }, `${comparison.kind} mirror to ${command.model}/${version} failed: ${err.message}`);
      })
      .finally(() => this.shadowsInFlight--);
  }

  async classify(command: PredictCommand): Promise<{ outcome: PredictOutcome; predictions: Classification[] }> {
    const outcome = await this.predict(command);
    return { outcome, predictions: classifications(outcome) };
  }

  /**
   * A request its API refused before it reached predict (a body that does not parse, a wrong
   * tensor, no key): counted like the others, under no version, so a misconfigured client shows
   * on the error panels. An error predict itself counted is left alone.
   */
  countRefused(call: InferenceCall, error: unknown, code: string, headers?: HeaderBag): void {
    if (typeof error === 'object' && error !== null && (error as Record<symbol, boolean>)[COUNTED]) return;
    const model = this.catalog.knows(call.model) ? call.model : UNKNOWN_MODEL;
    this.metrics.requests.inc({ model, version: '', api: call.api, code, source: requestSource(headers) });
  }

  /** A slot of MAX_CONCURRENT_REQUESTS, or RESOURCE_EXHAUSTED (counted); tokenize takes one too. */
  tryAcquire(): () => void {
    try {
      return this.limiter.tryAcquire();
    } catch (err) {
      this.metrics.rejected.inc();
      throw err;
    }
  }

  private validate({ input }: PredictCommand): void {
    validateRows(input, this.config.MAX_TEXTS_PER_REQUEST);
  }

  private async run(command: PredictCommand, resolved: ResolvedVersion, started: number): Promise<PredictOutcome> {
    const { manifest } = resolved;
    const pinned = manifest.tokenizer.hash;
    let ids: Ragged | servableCommonV1.RaggedTensor;
    let tokenizationMs = 0;
    let cacheHits: number | undefined;
    let truncated: number[] = [];
    if (command.input.kind === 'texts') {
      assertBeforeDeadline(command.deadline, 'tokenization');
      const t0 = performance.now();
      const encoded = await this.downstream.encode(pinned, command.input.texts, manifest.max_length, command.deadline, command.context);
      tokenizationMs = performance.now() - t0;
      ids = encoded.ids;
      cacheHits = encoded.cacheHits;
      truncated = encoded.truncated;
      if (truncated.length > 0) {
        if (command.truncate === false) throw overLength(truncated, resolved);
        this.metrics.truncatedTexts.inc({ model: resolved.model, version: String(resolved.version) }, truncated.length);
      }
    } else {
      const declared = command.input.tokenizer;
      if (declared && declared !== pinned) {
        throw new ServableError(
          ErrorCode.FAILED_PRECONDITION,
          `tokenizer mismatch: input_ids were made with tokenizer ${declared}, but ${resolved.model} version ${resolved.version} is pinned to tokenizer ${pinned}`,
        );
      }
      ids = command.input.padded ? trimPadding(command.input.ids, manifest.tokenizer.pad_id ?? 0) : command.input.ids;
      checkIds(ids, manifest.tokenizer.vocab_size, manifest.max_length);
    }

    assertBeforeDeadline(command.deadline, 'inference');
    const t1 = performance.now();
    const reply = await this.downstream.predict(resolved.model, resolved.version, ids, command.deadline, command.context);
    const hopMs = performance.now() - t1;
    this.metrics.inference.observe({ model: resolved.model, version: String(resolved.version), api: command.api }, hopMs / 1000);

    const tensor = reply.outputs?.[PROBABILITIES];
    if (!tensor || tensor.shape.length !== 2) throw new Error(`inference answered without a [n, k] ${PROBABILITIES} tensor`);
    const [rows, classes] = tensor.shape.map((d) => int64ToNumber(d, `${PROBABILITIES} shape`));
    const probabilities = bytesToFloat32(tensor.data);
    const labels = manifest.labels?.length === classes ? manifest.labels : Array.from({ length: classes }, (_, i) => String(i));
    const timing = reply.timing;
    return {
      model: resolved.model,
      version: resolved.version,
      tokenizer: pinned,
      labels,
      probabilities,
      rows,
      classes,
      truncated,
      timings: {
        tokenizationMs,
        // Durations in µs become fractional ms: far below 2^53, and rounding is the point here.
        queueMs: timing ? Number(timing.queueUs) / 1000 : 0,
        inferenceMs: timing ? Number(timing.computeUs) / 1000 : hopMs,
        totalMs: performance.now() - started,
        batchSize: timing?.batchSize || undefined,
        cacheHits,
      },
    };
  }
}

const NOT_BLANK = /\S/;

/** The gateway's checks of a request's rows, shared by classify, predict and tokenize so all refuse bad input alike. */
export function validateRows(input: PredictCommand['input'], maxTexts: number): void {
  const rows = input.kind === 'texts' ? input.texts.length : input.ids.rowLengths.length;
  if (rows === 0) throw ServableError.invalid('no inputs: send at least one text or row of ids');
  if (rows > maxTexts) {
    throw ServableError.invalid(`too many inputs: ${rows} > MAX_TEXTS_PER_REQUEST ${maxTexts}`);
  }
  if (input.kind === 'texts') {
    input.texts.forEach((t, i) => {
      if (typeof t !== 'string') throw ServableError.invalid(`texts[${i}] must be a string, got ${t === null ? 'null' : typeof t}`);
      if (t.length === 0) throw ServableError.invalid(`texts[${i}] is empty`);
      // The model would see [CLS] [SEP] alone and still answer with confidence: nothing a caller can use.
      if (!NOT_BLANK.test(t)) throw ServableError.invalid(`texts[${i}] is only whitespace`);
      // "\ud800" is valid JSON but no Unicode text: it has no UTF-8 form, and the tokenizer would see U+FFFDs.
      if (!isWellFormedText(t)) throw ServableError.invalid(`texts[${i}] is not valid Unicode: it holds a lone surrogate`);
    });
  }
}

/**
 * Drops the trailing pad ids of dense rows. Inference pads each batch itself,
 * so a padded row and the same row unpadded give the same prediction.
 */
export function trimPadding({ values, rowLengths }: Ragged, padId: number): Ragged {
  const rows: Int32Array[] = [];
  let offset = 0;
  for (const length of rowLengths) {
    let end = offset + length;
    while (end > offset + 1 && values[end - 1] === padId) end--;
    rows.push(values.subarray(offset, end));
    offset += length;
  }
  return packRagged(rows);
}

/** Ids a caller sent: whole numbers inside the vocabulary, rows neither empty nor over max_length. */
function checkIds({ values, rowLengths }: Ragged, vocabSize: number, maxLength: number): void {
  rowLengths.forEach((length, i) => {
    if (length === 0) throw ServableError.invalid(`input_ids row ${i} is empty`);
    if (maxLength && length > maxLength) throw ServableError.invalid(`input_ids row ${i} has ${length} ids, over max_length ${maxLength}`);
  });
  for (let i = 0; i < values.length; i++) {
    if (values[i] < 0 || values[i] >= vocabSize) throw ServableError.invalid(`input_ids value ${values[i]} is outside the vocabulary [0, ${vocabSize})`);
  }
}

/** A request with "truncate": false whose texts need cutting, named by index as validateRows names a bad text. */
function overLength(truncated: number[], { model, version, manifest }: ResolvedVersion): ServableError {
  const which = truncated.length === 1 ? `texts[${truncated[0]}] is` : `texts ${truncated.map((i) => `[${i}]`).join(', ')} are`;
  return ServableError.invalid(
    `${which} longer than ${model} version ${version}'s max_length of ${manifest.max_length} ids (special tokens included), and "truncate" is false: shorten ${truncated.length === 1 ? 'it' : 'them'}, or leave "truncate" out to have the model read the first ${manifest.max_length} ids`,
  );
}

/** The winning label of each row. */
function topLabels(outcome: PredictOutcome): string[] {
  return classifications(outcome).map((c) => c.label);
}

/** Rows of probabilities as label + scores, the winning label first-class. */
export function classifications(outcome: PredictOutcome): Classification[] {
  const out: Classification[] = [];
  let cut = 0;
  for (let r = 0; r < outcome.rows; r++) {
    const scores: Record<string, number> = {};
    let best = 0;
    for (let c = 0; c < outcome.classes; c++) {
      const p = outcome.probabilities[r * outcome.classes + c];
      scores[outcome.labels[c]] = p;
      if (p > outcome.probabilities[r * outcome.classes + best]) best = c;
    }
    const truncated = outcome.truncated[cut] === r;
    if (truncated) cut++;
    out.push({ label: outcome.labels[best], scores, truncated });
  }
  return out;
}

/** Rows of probabilities as nested arrays (TF Serving / JSON shapes). */
export function probabilityRows(outcome: PredictOutcome): number[][] {
  return Array.from({ length: outcome.rows }, (_, r) => Array.from(outcome.probabilities.subarray(r * outcome.classes, (r + 1) * outcome.classes)));
}
