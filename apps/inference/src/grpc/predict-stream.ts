import { Logger } from '@nestjs/common';
import { Observable } from 'rxjs';
import { ServableError } from '@servable/contracts';
import { ERROR_CODE_TRAILER, RETRY_AFTER_TRAILER, type servableInferenceV1 as v1 } from '@servable/contracts/grpc';
import { grpcFailure, requestContextFrom, tracingEnabled, type RequestContext } from '@servable/observability';
import type { SubmitOptions } from '../batching/dynamic-batcher';
import { CallCancellation } from './call-options';

/** One Predict, as the unary method serves it. */
export type PredictFn = (request: v1.PredictRequest, options: SubmitOptions, caller?: RequestContext) => Promise<v1.PredictResponse>;

const METHOD = '/servable.inference.v1.InferenceService/PredictStream';
const logger = new Logger('PredictStream');

/**
 * Serves a PredictStream: every item is a Predict of its own, queued for a batch the moment its
 * message arrives and answered the moment its own rows have run, with the deadline, cancellation,
 * metrics and trace span a unary Predict gets. Results that finish in the same turn of the event
 * loop (a batch's rows finish together) leave as one message. A failed item is answered with the
 * status the unary call would have ended with; the stream itself only fails on a broken protocol
 * (an id already in flight). When the caller ends its side, the stream ends once every item is
 * answered; when it cancels the stream, or names items in `cancelled`, those still queued are dropped.
 */
export function servePredictStream(requests: Observable<v1.PredictStreamRequest>, predict: PredictFn): Observable<v1.PredictStreamResponse> {
  return new Observable<v1.PredictStreamResponse>((subscriber) => {
    const open = new Map<number, CallCancellation>();
    let results: v1.PredictStreamResult[] = [];
    let scheduled = false;
    let inputDone = false;
    const flush = () => {
      scheduled = false;
      if (results.length > 0) {
        const message = { results };
        results = [];
        subscriber.next(message);
      }
      if (inputDone && open.size === 0) subscriber.complete();
    };
    const answer = (result: v1.PredictStreamResult) => {
      // Dropped (cancelled) already: nobody reads it.
      if (!open.delete(result.id)) return;
      results.push(result);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    };
    const start = (item: v1.PredictStreamItem) => {
      const id = item.id;
      if (open.has(id)) {
        // GrpcExceptionFilter maps and logs it, as for a unary call.
        subscriber.error(ServableError.invalid(`PredictStream item id ${id} is already in flight on this stream`));
        return;
      }
      const signal = new CallCancellation();
      open.set(id, signal);
      const options: SubmitOptions = { signal };
      if (item.timeoutMs > 0) options.deadline = performance.now() + item.timeoutMs;
      // As for a unary call: the caller's context reaches the predict only when tracing is on.
      const context = tracingEnabled() ? requestContextFrom(item.requestId, item.traceparent) : undefined;
      const served = item.request ? predict(item.request, options, context) : Promise.reject(ServableError.invalid('PredictStream item has no request'));
      served.then(
        (response) => answer(ok(id, response)),
        (err: unknown) => answer(failed(id, err, context ?? requestContextFrom(item.requestId, item.traceparent))),
      );
    };
    // The caller gave up on these items (its client went away): their rows leave the batch queue
    // (the batcher fails them CANCELLED on the abort), and they are not answered.
    const cancel = (id: number) => {
      const signal = open.get(id);
      if (!signal) return;
      open.delete(id);
      signal.abort();
    };
    const subscription = requests.subscribe({
      next: (message) => {
        for (const id of message.cancelled ?? []) cancel(id);
        for (const item of message.items ?? []) start(item);
      },
      error: (err: unknown) => subscriber.error(err),
      complete: () => {
        inputDone = true;
        if (!scheduled && open.size === 0) subscriber.complete();
      },
    });
    return () => {
      subscription.unsubscribe();
      const dropped = [...open.values()];
      open.clear();
      for (const signal of dropped) signal.abort();
    };
  });
}

function ok(id: number, response: v1.PredictResponse): v1.PredictStreamResult {
  return { id, response, code: 0, message: '', errorCode: '', retryAfterSeconds: 0 };
}

/** Logged and mapped as a unary Predict's failure is by GrpcExceptionFilter. */
function failed(id: number, err: unknown, context: RequestContext): v1.PredictStreamResult {
  const status = grpcFailure(err, METHOD, context, logger);
  const errorCode = status.metadata.get(ERROR_CODE_TRAILER)[0];
  const retryAfter = Number(status.metadata.get(RETRY_AFTER_TRAILER)[0] ?? 0);
  return { id, code: status.code, message: status.message, errorCode: typeof errorCode === 'string' ? errorCode : '', retryAfterSeconds: retryAfter };
}
