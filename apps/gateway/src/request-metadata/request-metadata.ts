import type { HeaderBag } from '@servable/routing';
import type { GatewayConfig } from '../config/gateway.config';
import type { PredictOutcome } from '../inference/prediction.types';
import type { TokenizeOutcome } from '../inference/tokenize.service';
import type { VersionSelector } from '../models/model-catalog.service';
import { deadlineFrom } from './deadline';

// What a caller says beside the body. HTTP headers and gRPC metadata keys share these
// names, so a client moves between the transports without renaming anything.

/** Pins a version (number) or a label when the path or model spec names none. */
export const PIN_HEADER = 'x-servable-version';
/** The tokenizer hash ids were made with, when the body does not say. */
export const TOKENIZER_HEADER = 'x-servable-tokenizer';
/** HTTP only: a gRPC caller sets its call's deadline (grpc-timeout) instead. */
export const TIMEOUT_HEADER = 'x-request-timeout-ms';
/** Keeps a caller on one side of a sticky rollout. */
export const ROUTE_KEY_HEADER = 'x-servable-route-key';
/** Who sent a request (api or console), for the metrics' source label. */
export const SOURCE_HEADER = 'x-servable-source';

/** One transport's request metadata: HTTP headers or gRPC metadata. */
export interface RequestMetadata {
  /** The first value of a header or metadata key (lower case). */
  get(name: string): string | undefined;
  /** Every value, for cohort rules, the route key and the source label. */
  readonly headers: HeaderBag;
  /** The caller's own timeout in milliseconds; undefined when it set none. */
  timeoutMs(): number | undefined;
}

/** The version a path or model spec names, as the catalog resolves it. */
export interface NamedVersion {
  version?: number;
  label?: string;
}

/** What the path or spec names, plus the caller's pin and the headers a rollout reads; no metadata means no pin. */
export function versionSelector(meta: RequestMetadata | undefined, named: NamedVersion = {}): VersionSelector {
  const selector: VersionSelector = meta ? { pin: meta.get(PIN_HEADER), headers: meta.headers } : {};
  if (named.version !== undefined) selector.version = named.version;
  if (named.label !== undefined) selector.label = named.label;
  return selector;
}

/** A tokenizer hash from the body wins over the header. */
export function declaredTokenizer(meta: RequestMetadata, fromBody?: string): string | undefined {
  return fromBody || meta.get(TOKENIZER_HEADER);
}

/** The request's absolute deadline: the caller's timeout capped at MAX_REQUEST_TIMEOUT_MS, else REQUEST_TIMEOUT_MS. */
export function deadlineOf(meta: RequestMetadata, config: GatewayConfig): number {
  return deadlineFrom(meta.timeoutMs(), config.REQUEST_TIMEOUT_MS, config.MAX_REQUEST_TIMEOUT_MS);
}

/** Headers (HTTP) or initial metadata (gRPC) of an answer, in the order they are written. */
export type ResponseMetadata = Array<[name: string, value: string]>;

const ms = (x: number) => x.toFixed(3);

/**
 * Which texts of the request were cut to the version's max_length ids (their indexes, comma
 * separated); only on an answer that cut one. Every API's answer carries it, since the TF
 * Serving and OIP bodies have no place for it.
 */
export const TRUNCATED_HEADER = 'x-servable-truncated';

/** TEI-style timing (milliseconds), plus the version and tokenizer that served the request, and the texts it cut. */
export function predictionMetadata(outcome: PredictOutcome): ResponseMetadata {
  const meta: ResponseMetadata = [
    ['x-model-version', String(outcome.version)],
    ['x-tokenizer', outcome.tokenizer],
    ['x-tokenization-time', ms(outcome.timings.tokenizationMs)],
    ['x-queue-time', ms(outcome.timings.queueMs)],
    ['x-inference-time', ms(outcome.timings.inferenceMs)],
    ['x-total-time', ms(outcome.timings.totalMs)],
  ];
  if (outcome.truncated.length > 0) meta.push([TRUNCATED_HEADER, outcome.truncated.join(',')]);
  return meta;
}

/** :tokenize has no batch queue and no inference, so only the tokenizer hop is timed. */
export function tokenizationMetadata(outcome: TokenizeOutcome): ResponseMetadata {
  return [
    ['x-model-version', String(outcome.version)],
    ['x-tokenizer', outcome.tokenizer],
    ['x-tokenization-time', ms(outcome.tokenizationMs)],
  ];
}
