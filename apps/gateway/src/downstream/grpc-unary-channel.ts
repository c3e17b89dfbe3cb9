import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';

/** How to send one unary method and read its answer: grpc-js's MethodDefinition, as proto-loader builds it. */
export interface UnaryMethod {
  path: string;
  requestSerialize(value: unknown): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}

export interface UnaryChannelOptions {
  /** Larger messages are refused both ways with RESOURCE_EXHAUSTED, as grpc-js's max_{send,receive}_message_length. */
  maxMessageBytes: number;
  /**
   * While calls are out, an HTTP/2 PING this often; a connection that does not answer one within
   * keepaliveTimeoutMs is dropped (half-open). Idle connections are not pinged, as grpc-js does not by
   * default: servers such as gRPC C-core answer pings without calls with GOAWAY too_many_pings.
   */
  keepaliveMs: number;
  keepaliveTimeoutMs: number;
}

const {
  HTTP2_HEADER_CONTENT_TYPE,
  HTTP2_HEADER_METHOD,
  HTTP2_HEADER_PATH,
  HTTP2_HEADER_STATUS,
  HTTP2_HEADER_TE,
  HTTP2_HEADER_USER_AGENT,
  NGHTTP2_CANCEL,
  NGHTTP2_ENHANCE_YOUR_CALM,
  NGHTTP2_REFUSED_STREAM,
} = http2.constants;
const USER_AGENT = 'servable-gateway';
/** grpc-timeout takes at most 8 digits; setTimeout at most 2^31 - 1 ms. */
const MAX_TIMEOUT_MS = 99_999_999;

/** Milliseconds left until `deadline` (epoch ms), capped at what grpc-timeout can say (27.7 h), which also keeps an infinite deadline a real timer. */
export function timeoutUntil(deadline: number): number {
  return Math.min(Math.ceil(deadline - Date.now()), MAX_TIMEOUT_MS);
}

/** An error shaped as grpc-js's ServiceError, so the replica set and fromGrpcError read it the same way. */
export function callError(code: grpc.status, details: string, metadata = new grpc.Metadata()): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata });
}

/**
 * gRPC unary calls to one address over one HTTP/2 connection, on node:http2 alone.
 *
 * Written by hand, which the project avoids, because the clients measured here cost twice as
 * much. One Predict at a time to inference, from a script (medians of several runs, client
 * CPU per call / p50): grpc-js with the gateway's channel options 0.93–1.25 / 1.76–2.53 ms,
 * @connectrpc/connect-node's gRPC transport 1.46–1.68 / 2.25–2.76 ms, node:http2 with the
 * frame made in advance 0.47–0.59 / 1.46–1.82 ms. strace showed the same syscalls for grpc-js
 * and node:http2; the difference is grpc-js's call stack (resolving, load-balancing and
 * subchannel calls, filters, interceptors, a stack trace per call) run cold after every sleep,
 * which is what a gateway at low concurrency does between requests.
 *
 * What it does not do, because the replica set around it does: name resolution and load
 * balancing (one channel per replica), retries, and health checks. No compression (none is
 * advertised, so a compressed answer is an INTERNAL error). What it does, as grpc-js would:
 * grpc-timeout and a local deadline that cancels the stream, status and message from trailers
 * or a trailers-only answer, HTTP statuses mapped as the gRPC spec says, UNAVAILABLE for a
 * refused stream, a dropped connection or one that cannot be made, GOAWAY (new calls get a new
 * connection, calls already sent finish on the old one), keepalive pings for half-open
 * connections, a connection that cannot be made within a call's deadline given up, and the
 * message size limits both ways.
 */
export class GrpcUnaryChannel {
  private session?: http2.ClientHttp2Session;
  /** Sessions that have the server's SETTINGS: connected and speaking HTTP/2. */
  private readonly handshaken = new WeakSet<http2.Http2Session>();
  private readonly keepalive: NodeJS.Timeout;
  private closed = false;
  /** Calls sent and not yet ended: keepalive pings only while there are some. */
  private inFlight = 0;

  constructor(
    readonly address: string,
    private readonly options: UnaryChannelOptions,
  ) {
    this.keepalive = setInterval(() => this.ping(), options.keepaliveMs);
    this.keepalive.unref();
  }

  /** Headers are plain ASCII metadata (x-request-id, traceparent); the deadline is epoch ms. */
  unary<T>(method: UnaryMethod, request: unknown, metadata: Record<string, string>, deadline: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timeoutMs = timeoutUntil(deadline);
      if (!(timeoutMs > 0)) return reject(callError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded before the call was sent'));
      if (this.closed) return reject(callError(grpc.status.UNAVAILABLE, 'Channel has been shut down'));
      let frame: Buffer;
      try {
        const message = method.requestSerialize(request);
        if (message.length > this.options.maxMessageBytes) {
          return reject(callError(grpc.status.RESOURCE_EXHAUSTED, `Sent message larger than max (${message.length} vs. ${this.options.maxMessageBytes})`));
        }
        frame = frameOf(message);
      } catch (err) {
        return reject(callError(grpc.status.INTERNAL, `Request message serialization failure: ${(err as Error).message}`));
      }
      const headers: http2.OutgoingHttpHeaders = {
        [HTTP2_HEADER_METHOD]: 'POST',
        [HTTP2_HEADER_PATH]: method.path,
        [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
        [HTTP2_HEADER_TE]: 'trailers',
        [HTTP2_HEADER_USER_AGENT]: USER_AGENT,
        'grpc-timeout': `${timeoutMs}m`,
      };
      for (const key in metadata) headers[key] = metadata[key];

      let stream: http2.ClientHttp2Stream;
      const session = this.current();
      try {
        stream = session.request(headers);
      } catch (err) {
        // A session that has received GOAWAY, run out of stream ids or been destroyed between our check and now.
        this.forget(session, true);
        return reject(callError(grpc.status.UNAVAILABLE, `Cannot start a call to ${this.address}: ${(err as Error).message}`));
      }

      this.inFlight++;
      let settled = false;
      let response: http2.IncomingHttpHeaders | undefined;
      let trailers: http2.IncomingHttpHeaders | undefined;
      let streamError: Error | undefined;
      const chunks: Buffer[] = [];
      let received = 0;
      const fail = (err: grpc.ServiceError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      };
      const timer = setTimeout(() => {
        fail(callError(grpc.status.DEADLINE_EXCEEDED, `Deadline exceeded after ${timeoutMs} ms`));
        stream.close(NGHTTP2_CANCEL);
        this.giveUpIfStuck(session);
      }, timeoutMs);

      stream.on('response', (h) => {
        response = h;
      });
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > this.options.maxMessageBytes + 5) {
          fail(callError(grpc.status.RESOURCE_EXHAUSTED, `Received message larger than max (${received - 5} vs. ${this.options.maxMessageBytes})`));
          stream.close(NGHTTP2_CANCEL);
          return;
        }
        chunks.push(chunk);
      });
      stream.on('trailers', (t) => {
        trailers = t;
      });
      stream.on('error', (err) => {
        streamError = err;
      });
      stream.on('close', () => {
        this.inFlight--;
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const outcome = finish(response, trailers, chunks, received, stream.rstCode, streamError, session.destroyed, this.address);
        if (outcome instanceof Error) reject(outcome);
        else {
          try {
            resolve(method.responseDeserialize(outcome) as T);
          } catch (err) {
            reject(callError(grpc.status.INTERNAL, `Response message parsing error: ${(err as Error).message}`));
          }
        }
      });
      stream.end(frame);
    });
  }

  /**
   * A long-lived bidirectional stream of `path` on the current connection (GrpcItemStream's), with
   * the same headers as a call but no grpc-timeout: its items carry their own deadlines. While it is
   * open it counts as a call out, so keepalive pings watch its connection.
   */
  openStream(path: string): http2.ClientHttp2Stream {
    if (this.closed) throw callError(grpc.status.UNAVAILABLE, 'Channel has been shut down');
    const session = this.current();
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request({
        [HTTP2_HEADER_METHOD]: 'POST',
        [HTTP2_HEADER_PATH]: path,
        [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
        [HTTP2_HEADER_TE]: 'trailers',
        [HTTP2_HEADER_USER_AGENT]: USER_AGENT,
      });
    } catch (err) {
      this.forget(session, true);
      throw callError(grpc.status.UNAVAILABLE, `Cannot start a stream to ${this.address}: ${(err as Error).message}`);
    }
    this.inFlight++;
    stream.once('close', () => this.inFlight--);
    return stream;
  }

  /**
   * A connection still without the server's SETTINGS (SYNs dropped, a stuck handshake) when a call's
   * or an item's deadline passed is given up, so the next call dials again instead of queueing on it
   * until the kernel's connect timeout.
   */
  giveUpIfStuck(session: http2.Http2Session | undefined): void {
    if (!session || this.handshaken.has(session) || session.destroyed) return;
    this.forget(session, false);
    session.destroy();
  }

  /** Calls already sent finish on the current connection; the next call makes a new one (it may have been dead or stuck). */
  renew(): void {
    if (this.session) this.forget(this.session, true);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.keepalive);
    if (this.session) this.forget(this.session, true);
  }

  private current(): http2.ClientHttp2Session {
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return s;
    const session = http2.connect(`http://${this.address}`, { settings: { enablePush: false } });
    // Connection errors reach each call as its stream's error and close; here they only end the session.
    session.on('error', () => this.forget(session, false));
    session.on('goaway', () => this.forget(session, true));
    session.on('close', () => this.forget(session, false));
    session.once('remoteSettings', () => this.handshaken.add(session));
    // Calls hold their own deadline timers; an idle connection must not keep the process up.
    session.unref();
    this.session = session;
    return session;
  }

  /** Stops handing out `session`; `drain` closes it once its calls are done (GOAWAY, renew), else it is already gone. */
  private forget(session: http2.Http2Session, drain: boolean): void {
    if (this.session === session) this.session = undefined;
    if (drain && !session.closed && !session.destroyed) session.close();
  }

  /** A PING on the open connection while calls are out; no answer within keepaliveTimeoutMs and it is destroyed, failing its calls with UNAVAILABLE. */
  private ping(): void {
    const session = this.session;
    if (!session || this.inFlight === 0 || session.connecting || session.closed || session.destroyed) return;
    const timeout = setTimeout(() => session.destroy(new Error('keepalive ping timed out')), this.options.keepaliveTimeoutMs);
    timeout.unref();
    try {
      const sent = session.ping((err) => {
        clearTimeout(timeout);
        if (err && !session.destroyed) session.destroy(err);
      });
      if (!sent) clearTimeout(timeout);
    } catch {
      clearTimeout(timeout);
    }
  }
}

/** A gRPC length-prefixed message, uncompressed. */
export function frameOf(message: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** How a call or stream ended: null for grpc-status OK, else its error. */
export function endStatus(
  response: http2.IncomingHttpHeaders | undefined,
  trailers: http2.IncomingHttpHeaders | undefined,
  rstCode: number | undefined,
  streamError: Error | undefined,
  dropped: boolean,
  address: string,
): grpc.ServiceError | null {
  // A trailers-only answer (an error before any message) carries its status in the response headers.
  const final = trailers ?? (response && response['grpc-status'] !== undefined ? response : undefined);
  if (!final) {
    if (response && Number(response[HTTP2_HEADER_STATUS]) !== 200) return httpStatusError(Number(response[HTTP2_HEADER_STATUS]));
    if (rstCode === NGHTTP2_REFUSED_STREAM) return callError(grpc.status.UNAVAILABLE, `Stream refused by ${address}`);
    // Node resets every stream of a connection that ends with CANCEL: that is the connection dropping, not a cancel.
    if (dropped) return callError(grpc.status.UNAVAILABLE, `Connection to ${address} dropped${streamError ? `: ${streamError.message}` : ''}`);
    if (rstCode === NGHTTP2_CANCEL) return callError(grpc.status.CANCELLED, `Call cancelled by ${address}`);
    if (rstCode === NGHTTP2_ENHANCE_YOUR_CALM) return callError(grpc.status.RESOURCE_EXHAUSTED, `Bandwidth exhausted or memory limit exceeded at ${address}`);
    // No answer: the connection could not be made, or dropped, or the stream was reset.
    const why = streamError ? streamError.message : rstCode ? `stream reset with code ${rstCode}` : 'connection dropped';
    return callError(response ? grpc.status.INTERNAL : grpc.status.UNAVAILABLE, `No answer from ${address}: ${why}`);
  }
  const code = Number(final['grpc-status']);
  if (!Number.isInteger(code) || code < 0 || code > 16) return callError(grpc.status.UNKNOWN, `Invalid grpc-status ${String(final['grpc-status'])}`);
  if (code !== grpc.status.OK) {
    const raw = final['grpc-message'];
    let details = typeof raw === 'string' ? raw : '';
    try {
      details = decodeURIComponent(details);
    } catch {
      // Not percent-encoded after all: keep it as it came.
    }
    return callError(code, details, grpc.Metadata.fromHttp2Headers(final));
  }
  return null;
}

/** The message bytes of a complete call, or the error it ended with. */
function finish(
  response: http2.IncomingHttpHeaders | undefined,
  trailers: http2.IncomingHttpHeaders | undefined,
  chunks: Buffer[],
  received: number,
  rstCode: number | undefined,
  streamError: Error | undefined,
  dropped: boolean,
  address: string,
): Buffer | grpc.ServiceError {
  const status = endStatus(response, trailers, rstCode, streamError, dropped, address);
  if (status) return status;
  if (received < 5) return callError(grpc.status.UNIMPLEMENTED, 'Server answered a unary call with no message');
  const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received);
  if (body[0] !== 0) return callError(grpc.status.INTERNAL, 'Server sent a compressed message, and no compression was asked for');
  const length = body.readUInt32BE(1);
  if (length !== received - 5) return callError(grpc.status.UNIMPLEMENTED, 'Server answered a unary call with other than one message');
  return body.subarray(5);
}

/** The gRPC spec's mapping of an HTTP status without grpc-status (a proxy's answer, or not a gRPC server at all); others are UNKNOWN. */
const FROM_HTTP_STATUS: Readonly<Record<number, grpc.status>> = {
  400: grpc.status.INTERNAL,
  401: grpc.status.UNAUTHENTICATED,
  403: grpc.status.PERMISSION_DENIED,
  404: grpc.status.UNIMPLEMENTED,
  429: grpc.status.UNAVAILABLE,
  502: grpc.status.UNAVAILABLE,
  503: grpc.status.UNAVAILABLE,
  504: grpc.status.UNAVAILABLE,
};

function httpStatusError(status: number): grpc.ServiceError {
  return callError(FROM_HTTP_STATUS[status] ?? grpc.status.UNKNOWN, `Received HTTP status code ${status}`);
}
