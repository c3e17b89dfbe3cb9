import type { Ragged } from '@servable/contracts';
import type { RequestContext } from '@servable/observability';
import type { VersionSelector } from '../models/model-catalog.service';

/** The public API a request came through: a metrics label. */
export type ApiName = 'product' | 'tfserving' | 'oip' | 'grpc' | 'grpc_oip';

/** Model input as a request carries it: raw texts, or ids already tokenized by the caller. */
export type ModelInput =
  | { kind: 'texts'; texts: string[] }
  | {
      kind: 'ids';
      ids: Ragged;
      /** The tokenizer hash the caller used (x-servable-tokenizer or a request field). */
      tokenizer?: string;
      /** Rows are padded to one length (a dense [n, seq] tensor): trailing pad ids are dropped. */
      padded?: boolean;
    };

export interface PredictCommand {
  api: ApiName;
  model: string;
  selector: VersionSelector;
  input: ModelInput;
  /** Absolute deadline (epoch ms), passed on to every downstream call. */
  deadline: number;
  /** x-request-id and traceparent, passed on to every downstream call. */
  context: RequestContext;
  /**
   * Texts over the version's max_length ids: cut to it (true, the default), or the request is
   * INVALID_ARGUMENT before inference (false, as TEI's `truncate: false`).
   */
  truncate?: boolean;
}

export interface PredictTimings {
  /** The tokenizer hop; 0 when the caller sent ids. */
  tokenizationMs: number;
  /** Rows waiting in inference's batch queue. */
  queueMs: number;
  /** The batch run on an inference worker. */
  inferenceMs: number;
  /** Everything inside the gateway, from the use-case's start to its answer. */
  totalMs: number;
  /** Rows in the inference batch that served it. */
  batchSize?: number;
  /** Texts of this request served from a cache: the gateway's near cache of token ids or the tokenizer's. */
  cacheHits?: number;
}

export interface PredictOutcome {
  model: string;
  version: number;
  tokenizer: string;
  /** Class labels, in the order of the probability columns. */
  labels: string[];
  /** Row-major [rows, classes]. */
  probabilities: Float32Array;
  rows: number;
  classes: number;
  /** Indexes of the texts cut to max_length (the model saw their beginning), in order; empty for ids. */
  truncated: number[];
  timings: PredictTimings;
}

export interface Classification {
  label: string;
  scores: Record<string, number>;
  /** The text was cut to the version's max_length ids. */
  truncated: boolean;
}
