import type * as http2 from 'node:http2';
import { constants } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { ERROR_CODE_TRAILER, RETRY_AFTER_TRAILER } from '@servable/contracts/grpc';
import { REQUEST_ID_HEADER, TRACEPARENT_HEADER, type RequestCancellation } from '@servable/observability';
import { callError, endStatus, frameOf, timeoutUntil, type GrpcUnaryChannel, type UnaryMethod } from './grpc-unary-channel';

/** A unary method's requests sent as items of a bidirectional stream (inference's PredictStream), and its answers read back by item. */
export interface ItemStreamMethod {
  /** The stream method's path. */
  path: string;
  /** Serializes `{ items: [{ id, request, timeoutMs, requestId, traceparent }], cancelled: [id] }`. */
  requestSerialize(value: unknown): Buffer;
  /** Reads `{ results: [{ id, response?, code, message, errorCode, retryAfterSeconds }] }`. */
  responseDeserialize(bytes: Buffer): unknown;
  /** The unary method, for a server that does not have the stream (UNIMPLEMENTED: an older replica during a rollout). */
  unary: UnaryMethod;
}

interface Item {
  id: number;
  request: unknown;
  timeoutMs: number;
  requestId: string;
  traceparent: string;
}

interface Result {
  id: number;
  response?: unknown;
  code: number;
  message: string;
  errorCode: string;
  retryAfterSeconds: number;
}

interface Pending {
  item: Item;
  metadata: Record<string, string>;
  deadline: number;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout;
  /** The stream it was written on; none while it waits for this turn's message. */
  stream?: http2.ClientHttp2Stream;
  /** Stops listening for the caller's cancellation. */
  stopListening?: () => void;
}

const MAX_ID = 0xffff_ffff;

/**
 * One replica's end of a PredictStream, over the replica's GrpcUnaryChannel. Each request is an
 * item with an id of its own: the items that arrive in one turn of the event loop leave as one
 * message, and inference answers each as soon as its own rows have run, so no request waits for
 * the rows of another. (A unary call that carried many requests' rows returned when its last
 * batch did, and the requests behind it waited in the gateway for it: in-process, with the
 * batcher and workers alone, that cost a quarter of the rows per second; see README.)
 *
 * For each item, what a unary call gives: a deadline (sent as timeoutMs, and a local timer),
 * x-request-id and traceparent, the status and taxonomy code it failed with, UNAVAILABLE when
 * the stream or its connection ends before it is answered (the replica set then tries another
 * replica), and the message size limit. On GOAWAY the stream stops taking items and is ended,
 * so its answers still come and the server can finish; the next item opens a stream on a new
 * connection. A server without the stream gets unary calls from then on.
 */
export class GrpcItemStream {
  private stream?: http2.ClientHttp2Stream;
  private readonly pending = new Map<number, Pending>();
  /** Streams that take no more items (GOAWAY): their answers still count. */
  private readonly retired = new WeakSet<http2.ClientHttp2Stream>();
  /** Why a stream was given up by this side (a bad message from the server), for its items. */
  private readonly failures = new WeakMap<http2.ClientHttp2Stream, grpc.ServiceError>();
  private outbox: Pending[] = [];
  /** Ids of items already sent that the callers gave up on, by the stream they went on: the next message cancels them. */
  private cancels = new Map<http2.ClientHttp2Stream, number[]>();
  private scheduled = false;
  private nextId = 0;
  /** The server answered the stream with UNIMPLEMENTED: unary calls until the connection is renewed. */
  private unsupported = false;

  constructor(
    private readonly channel: GrpcUnaryChannel,
    private readonly method: ItemStreamMethod,
    private readonly maxMessageBytes: number,
  ) {}

  /** Items not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  call<T>(request: unknown, metadata: Record<string, string>, deadline: number, cancellation?: RequestCancellation): Promise<T> {
    if (this.unsupported) return this.channel.unary<T>(this.method.unary, request, metadata, deadline);
    const timeoutMs = timeoutUntil(deadline);
    if (!(timeoutMs > 0)) return Promise.reject(callError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded before the call was sent'));
    if (cancellation?.aborted) return Promise.reject(callError(grpc.status.CANCELLED, 'Cancelled: the client gave up on the request'));
    return new Promise<T>((resolve, reject) => {
      const id = this.newId();
      const entry: Pending = {
        item: { id, request, timeoutMs, requestId: metadata[REQUEST_ID_HEADER] ?? '', traceparent: metadata[TRACEPARENT_HEADER] ?? '' },
        metadata,
        deadline,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: setTimeout(() => this.expire(entry), timeoutMs),
      };
      this.pending.set(id, entry);
      this.outbox.push(entry);
      if (cancellation) entry.stopListening = cancellation.onAbort(() => this.cancel(entry));
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /**
   * The caller gave up: the item fails with CANCELLED here, and, once sent, is cancelled on its
   * stream, so inference drops its rows from the batch queue instead of running them for nobody
   * (a client timing out under load otherwise still cost a whole Predict). Ids are not reused
   * before 2^32 more items, so the cancel cannot reach a newer item.
   */
  private cancel(e: Pending): void {
    const stream = e.stream;
    if (this.pending.get(e.item.id) !== e) return;
    this.settle(e, callError(grpc.status.CANCELLED, 'Cancelled: the client gave up on the request'));
    if (!stream || stream.closed || stream.destroyed) return;
    const ids = this.cancels.get(stream);
    if (ids) ids.push(e.item.id);
    else this.cancels.set(stream, [e.item.id]);
    this.schedule();
  }

  /** The next calls go over a new connection, and are tried on the stream again. */
  renew(): void {
    this.unsupported = false;
    if (this.stream) this.retire(this.stream);
  }

  /** Ends this side of the stream: items already sent are still answered. */
  close(): void {
    if (this.stream) this.retire(this.stream);
  }

  private newId(): number {
    do this.nextId = this.nextId >= MAX_ID ? 1 : this.nextId + 1;
    while (this.pending.has(this.nextId));
    return this.nextId;
  }

  /** Sends this turn's cancels, then its items as one message (two or more if one would pass the size limit). */
  private flush(): void {
    this.scheduled = false;
    if (this.cancels.size > 0) {
      const cancels = this.cancels;
      this.cancels = new Map();
      for (const [stream, cancelled] of cancels) {
        // A stream that has ended has dropped its items already.
        if (stream.closed || stream.destroyed || stream.writableEnded) continue;
        stream.write(frameOf(this.method.requestSerialize({ items: [], cancelled })));
      }
    }
    const entries = this.outbox.filter((e) => this.pending.get(e.item.id) === e);
    this.outbox = [];
    if (entries.length === 0) return;
    if (this.unsupported) {
      for (const e of entries) this.sendUnary(e);
      return;
    }
    let stream: http2.ClientHttp2Stream;
    try {
      stream = this.open();
    } catch (err) {
      for (const e of entries) this.settle(e, err);
      return;
    }
    this.write(stream, entries);
  }

  private write(stream: http2.ClientHttp2Stream, entries: Pending[]): void {
    let message: Buffer;
    try {
      message = this.method.requestSerialize({ items: entries.map((e) => e.item) });
    } catch (err) {
      for (const e of entries) this.settle(e, callError(grpc.status.INTERNAL, `Request message serialization failure: ${(err as Error).message}`));
      return;
    }
    if (message.length > this.maxMessageBytes) {
      if (entries.length > 1) {
        const half = entries.length >> 1;
        this.write(stream, entries.slice(0, half));
        this.write(stream, entries.slice(half));
        return;
      }
      this.settle(entries[0], callError(grpc.status.RESOURCE_EXHAUSTED, `Sent message larger than max (${message.length} vs. ${this.maxMessageBytes})`));
      return;
    }
    for (const e of entries) e.stream = stream;
    stream.write(frameOf(message));
  }

  /** The open stream, or a new one on the channel's current connection. */
  private open(): http2.ClientHttp2Stream {
    const current = this.stream;
    if (current && !current.closed && !current.destroyed && !this.retired.has(current)) return current;
    const stream = this.channel.openStream(this.method.path);
    const session = stream.session;
    this.stream = stream;
    let response: http2.IncomingHttpHeaders | undefined;
    let trailers: http2.IncomingHttpHeaders | undefined;
    let streamError: Error | undefined;
    let answered = false;
    const read = messageReader(this.maxMessageBytes, (bytes) => {
      answered = true;
      this.answer(stream, bytes);
    });
    stream.on('response', (h) => (response = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('error', (err) => (streamError = err));
    stream.on('data', (chunk: Buffer) => {
      const bad = read(chunk);
      if (bad) this.giveUp(stream, bad);
    });
    // The server has finished its side (its status came): end ours, so the stream closes and its items settle.
    stream.on('end', () => this.retire(stream));
    // The server is going away: items already sent are answered, new ones take a new connection.
    const goaway = () => this.retire(stream);
    session?.once('goaway', goaway);
    stream.on('close', () => {
      session?.off('goaway', goaway);
      const status = this.failures.get(stream) ?? endStatus(response, trailers, stream.rstCode, streamError, session?.destroyed ?? true, this.channel.address);
      this.ended(stream, status, answered);
    });
    return stream;
  }

  private answer(stream: http2.ClientHttp2Stream, bytes: Buffer): void {
    let reply: { results?: Result[] };
    try {
      reply = this.method.responseDeserialize(bytes) as { results?: Result[] };
    } catch (err) {
      this.giveUp(stream, callError(grpc.status.INTERNAL, `Response message parsing error: ${(err as Error).message}`));
      return;
    }
    for (const r of reply.results ?? []) {
      const e = this.pending.get(r.id);
      // Gone already: its deadline passed.
      if (!e) continue;
      if (r.code !== grpc.status.OK) this.settle(e, itemError(r));
      else if (r.response === undefined) this.settle(e, callError(grpc.status.INTERNAL, `Server answered item ${r.id} with neither a response nor an error`));
      else this.settle(e, undefined, r.response);
    }
  }

  /** The stream ended: its unanswered items fail with how it ended (UNAVAILABLE when it ended cleanly), or go unary if the server lacks it. */
  private ended(stream: http2.ClientHttp2Stream, status: grpc.ServiceError | null, answered: boolean): void {
    if (this.stream === stream) this.stream = undefined;
    const left = [...this.pending.values()].filter((e) => e.stream === stream);
    if (left.length === 0) return;
    if (status?.code === grpc.status.UNIMPLEMENTED && !answered) {
      this.unsupported = true;
      for (const e of left) this.sendUnary(e);
      return;
    }
    const error = status ?? callError(grpc.status.UNAVAILABLE, `Stream to ${this.channel.address} ended with ${left.length} item(s) unanswered`);
    for (const e of left) this.settle(e, error);
  }

  private sendUnary(e: Pending): void {
    e.stream = undefined;
    this.channel.unary(this.method.unary, e.item.request, e.metadata, e.deadline).then(
      (reply) => this.settle(e, undefined, reply),
      (err: unknown) => this.settle(e, err),
    );
  }

  private expire(e: Pending): void {
    if (this.pending.get(e.item.id) !== e) return;
    this.settle(e, callError(grpc.status.DEADLINE_EXCEEDED, `Deadline exceeded after ${e.item.timeoutMs} ms`));
    // As a unary call does: a connection still without the server's SETTINGS is given up, so the
    // next items dial again instead of queueing on it.
    if (e.stream) this.channel.giveUpIfStuck(e.stream.session);
  }

  private settle(e: Pending, err: unknown, value?: unknown): void {
    if (this.pending.get(e.item.id) !== e) return;
    this.pending.delete(e.item.id);
    clearTimeout(e.timer);
    e.stopListening?.();
    if (err !== undefined) e.reject(err);
    else e.resolve(value);
  }

  private retire(stream: http2.ClientHttp2Stream): void {
    this.retired.add(stream);
    if (this.stream === stream) this.stream = undefined;
    if (!stream.closed && !stream.destroyed) stream.end();
  }

  /** A message from the server this side cannot read: the stream is cancelled and its items fail with why. */
  private giveUp(stream: http2.ClientHttp2Stream, err: grpc.ServiceError): void {
    if (!this.failures.has(stream)) this.failures.set(stream, err);
    this.retire(stream);
    stream.close(constants.NGHTTP2_CANCEL);
  }
}

/** An item's failure as a unary call's would read: its status, message and trailers. */
function itemError(r: Result): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  if (r.errorCode) metadata.set(ERROR_CODE_TRAILER, r.errorCode);
  if (r.retryAfterSeconds > 0) metadata.set(RETRY_AFTER_TRAILER, String(r.retryAfterSeconds));
  return callError(r.code, r.message, metadata);
}

/** gRPC's length-prefixed messages out of a stream's data chunks; returns an error for a message it must refuse. */
export function messageReader(maxMessageBytes: number, onMessage: (bytes: Buffer) => void): (chunk: Buffer) => grpc.ServiceError | undefined {
  let buffered: Buffer | undefined;
  return (chunk) => {
    let data = buffered ? Buffer.concat([buffered, chunk]) : chunk;
    buffered = undefined;
    while (data.length >= 5) {
      if (data[0] !== 0) return callError(grpc.status.INTERNAL, 'Server sent a compressed message, and no compression was asked for');
      const length = data.readUInt32BE(1);
      if (length > maxMessageBytes) return callError(grpc.status.RESOURCE_EXHAUSTED, `Received message larger than max (${length} vs. ${maxMessageBytes})`);
      if (data.length < 5 + length) break;
      onMessage(data.subarray(5, 5 + length));
      data = data.subarray(5 + length);
    }
    if (data.length > 0) buffered = data;
    return undefined;
  };
}
