import type { Metadata } from '@grpc/grpc-js';
import type { GatewayConfig } from '../config/gateway.config';
import { deadlineFrom } from '../inference/deadline';
import type { PredictOutcome } from '../inference/prediction.types';

interface CallLike {
  getDeadline?(): Date | number;
  sendMetadata?(metadata: Metadata): void;
}

export function metadataValue(metadata: Metadata | undefined, key: string): string | undefined {
  const value = metadata?.get?.(key)?.[0];
  return value === undefined ? undefined : value.toString();
}

/** Text metadata as a header bag, for cohort rules and the route key. */
export function metadataHeaders(metadata: Metadata | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!metadata?.getMap) return out;
  for (const [key, value] of Object.entries(metadata.getMap())) if (typeof value === 'string') out[key] = value;
  return out;
}

/** The call's grpc-timeout as an absolute deadline, or the default when the client set none. */
export function grpcDeadline(call: unknown, config: GatewayConfig): number {
  const deadline = (call as CallLike | undefined)?.getDeadline?.();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  const timeout = typeof at === 'number' && Number.isFinite(at) ? Math.max(1, at - Date.now()) : undefined;
  return deadlineFrom(timeout, config.REQUEST_TIMEOUT_MS, config.MAX_REQUEST_TIMEOUT_MS);
}

/** The REST timing headers as initial metadata of the gRPC answer. */
export function sendTimingMetadata(call: unknown, metadata: Metadata | undefined, outcome: PredictOutcome): void {
  const c = call as CallLike | undefined;
  if (!c?.sendMetadata || !metadata) return;
  const out = metadata.clone();
  for (const key of Object.keys(out.getMap())) out.remove(key);
  out.set('x-model-version', String(outcome.version));
  out.set('x-tokenizer', outcome.tokenizer);
  out.set('x-tokenization-time', outcome.timings.tokenizationMs.toFixed(3));
  out.set('x-queue-time', outcome.timings.queueMs.toFixed(3));
  out.set('x-inference-time', outcome.timings.inferenceMs.toFixed(3));
  out.set('x-total-time', outcome.timings.totalMs.toFixed(3));
  c.sendMetadata(out);
}
