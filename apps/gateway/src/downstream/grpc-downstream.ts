import * as grpc from '@grpc/grpc-js';
import { ErrorCode, ServableError } from '@servable/contracts';
import { GRPC_CHANNEL_OPTIONS, fromGrpcError } from '@servable/contracts/grpc';
import { REQUEST_ID_HEADER, SpanKind, TRACEPARENT_HEADER, endSpan, startSpan, type RequestContext } from '@servable/observability';

export type ClientCtor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client;
type Unary = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, reply: unknown) => void) => void;

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  ...GRPC_CHANNEL_OPTIONS,
  // A replacement channel must not reuse the broken connection from the global subchannel pool.
  'grpc.use_local_subchannel_pool': 1,
  // A restarted replica is found within a second or two, not after minutes of exponential backoff.
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2_000,
  'grpc.keepalive_time_ms': 30_000,
  // The replica set's retry (once, on another replica, within the deadline) is the only one; grpc-js's
  // own retry layer would also keep a copy of every request message in case it retries transparently.
  'grpc.enable_retries': 0,
};

export interface DownstreamCallOptions {
  /** Absolute deadline (epoch ms), passed on as the call's grpc-timeout. */
  deadline: number;
  /** The request this call serves: its x-request-id and traceparent go with the call. */
  context?: RequestContext;
}

/**
 * One gRPC service at one address (one replica). Calls carry the request's x-request-id,
 * traceparent and deadline, and reject with the raw grpc-js error: the replica set decides
 * whether to try another replica, then translates.
 */
export class GrpcEndpoint {
  private client: grpc.Client;

  constructor(
    readonly service: string,
    readonly address: string,
    private readonly ctor: ClientCtor,
  ) {
    this.client = this.connect();
  }

  private connect(): grpc.Client {
    return new this.ctor(this.address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  }

  /**
   * One attempt. With tracing on it is a client span of the request's trace, so a retry on
   * another replica shows as a second span with its own address.
   */
  call<T>(method: string, request: unknown, options: DownstreamCallOptions): Promise<T> {
    // Calls made for no request (status polls, health checks) would only be noise in a trace.
    const traced = options.context
      ? startSpan(`${this.service} ${method}`, options.context, {
          kind: SpanKind.CLIENT,
          attributes: { 'rpc.system': 'grpc', 'rpc.method': method, 'server.address': this.address },
        })
      : undefined;
    if (!traced) return this.send(method, request, options);
    return this.send<T>(method, request, { ...options, context: traced.context }).then(
      (reply) => {
        endSpan(traced.span);
        return reply;
      },
      (err: unknown) => {
        endSpan(traced.span, err);
        throw err;
      },
    );
  }

  private send<T>(method: string, request: unknown, options: DownstreamCallOptions): Promise<T> {
    const client = this.client;
    const fn = (client as unknown as Record<string, Unary>)[method];
    if (typeof fn !== 'function') return Promise.reject(new Error(`${this.service} has no method ${method}`));
    return new Promise<T>((resolve, reject) => {
      fn.call(client, request, outgoingMetadata(options.context), { deadline: options.deadline }, (err, reply) =>
        err ? reject(err) : resolve(reply as T),
      );
    });
  }

  /** Swaps in a new channel (the old one may hold a dead connection or sit in backoff); calls on the old one finish first. */
  renew(): void {
    const old = this.client;
    this.client = this.connect();
    setTimeout(() => old.close(), 10_000).unref();
  }

  close(): void {
    this.client.close();
  }
}

/** A grpc-js error as the taxonomy's ServableError, naming the service and replica where that helps an operator. */
export function translateGrpcError(err: unknown, service: string, address: string): ServableError {
  if (err instanceof ServableError) return err;
  const e = fromGrpcError(err);
  if (e.code === ErrorCode.UNAVAILABLE) {
    return new ServableError(ErrorCode.UNAVAILABLE, `${service} is unavailable at ${address}: ${e.message}`, { cause: err, retryAfterSeconds: 1 });
  }
  if (e.code === ErrorCode.DEADLINE_EXCEEDED) {
    return new ServableError(ErrorCode.DEADLINE_EXCEEDED, `deadline exceeded waiting for ${service}`, { cause: err });
  }
  return e;
}

/** x-request-id and traceparent of the request a call serves, for the next hop's logs. */
export function outgoingMetadata(ctx?: RequestContext): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (ctx) {
    metadata.set(REQUEST_ID_HEADER, ctx.requestId);
    if (ctx.traceparent) metadata.set(TRACEPARENT_HEADER, ctx.traceparent);
  }
  return metadata;
}
