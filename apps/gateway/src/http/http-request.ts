import type { FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { ServableError } from '@servable/contracts';
import type { GatewayConfig } from '../config/gateway.config';
import { deadlineFrom, parseTimeoutHeader } from '../inference/deadline';
import type { PredictOutcome } from '../inference/prediction.types';
import type { VersionSelector } from '../models/model-catalog.service';

export type HttpRequest = FastifyRequest;

export const PIN_HEADER = 'x-servable-version';
export const TOKENIZER_HEADER = 'x-servable-tokenizer';
export const TIMEOUT_HEADER = 'x-request-timeout-ms';

/** Path parameters of /v1/models/{model}[/versions/{v}|/labels/{l}]. */
export interface ModelPath {
  model: string;
  version?: string;
  label?: string;
}

function header(req: HttpRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function selectorOf(path: ModelPath, req: HttpRequest): VersionSelector {
  const selector: VersionSelector = { pin: header(req, PIN_HEADER), headers: req.headers };
  if (path.version !== undefined) selector.version = versionNumber(path.version);
  if (path.label !== undefined) selector.label = path.label;
  return selector;
}

export function versionNumber(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) === 0) throw ServableError.notFound(`model version "${text}" not found: versions are positive whole numbers`);
  return Number(text);
}

export function tokenizerHeader(req: HttpRequest): string | undefined {
  return header(req, TOKENIZER_HEADER);
}

export function deadlineOf(req: HttpRequest, config: GatewayConfig): number {
  return deadlineFrom(parseTimeoutHeader(req.headers[TIMEOUT_HEADER]), config.REQUEST_TIMEOUT_MS, config.MAX_REQUEST_TIMEOUT_MS);
}

export function jsonObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ServableError.invalid('the body must be a JSON object');
  return body as Record<string, unknown>;
}

const ms = (x: number) => x.toFixed(3);

/** TEI-style timing headers (milliseconds), plus the version and tokenizer that served the request. */
export function setTimingHeaders(res: ServerResponse, outcome: PredictOutcome): void {
  res.setHeader('x-model-version', String(outcome.version));
  res.setHeader('x-tokenizer', outcome.tokenizer);
  res.setHeader('x-tokenization-time', ms(outcome.timings.tokenizationMs));
  res.setHeader('x-queue-time', ms(outcome.timings.queueMs));
  res.setHeader('x-inference-time', ms(outcome.timings.inferenceMs));
  res.setHeader('x-total-time', ms(outcome.timings.totalMs));
}
