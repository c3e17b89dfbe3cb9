import * as grpc from '@grpc/grpc-js';
import { ErrorCode, ServableError } from '@servable/contracts';
import { MAX_GRPC_MESSAGE_BYTES, fromGrpcError } from '@servable/contracts/grpc';
import { REQUEST_ID_HEADER, SpanKind, TRACEPARENT_HEADER, endSpan, startSpan, type RequestCancellation, type RequestContext, type SpanContext } from '@servable/observability';
import { GrpcItemStream, type ItemStreamMethod } from './grpc-item-stream';
import { GrpcUnaryChannel, callError, type UnaryChannelOptions, type UnaryMethod } from './grpc-unary-channel';

const CHANNEL_OPTIONS: UnaryChannelOptions = {
  maxMessageBytes: MAX_GRPC_MESSAGE_BYTES,
  keepaliveMs: 30_000,
  keepaliveTimeoutMs: 20_000,
};

export interface DownstreamCallOptions {
  /** Absolute deadline (epoch ms), passed on as the call's grpc-timeout. */
  deadline: number;
  /** The request this call serves: its x-request-id and traceparent go with the call. */
  context?: RequestContext;
  /** Spans of the other requests a merged call also serves: its client span links to them. */
  links?: SpanContext[];
  /** The request's client gave up: a call that can be cancelled alone (a PredictStream item) is. */
  cancellation?: RequestCancellation;
}

/** What the replica set needs of one replica's service: a call, a fresh connection, and an end. */
export interface Endpoint {
  readonly address: string;
  call<T>(method: string, request: unknown, options: DownstreamCallOptions): Promise<T>;
  /** The next calls go over a new connection (the old one may be dead or stuck); calls on the old one finish first. */
  renew(): void;
  close(): void;
}

/** The replica set makes one endpoint per replica it finds. */
export type EndpointFactory = (address: string) => Endpoint;

/**
 * One gRPC service at one address (one replica), over a GrpcUnaryChannel. Calls carry the
 * request's x-request-id, traceparent and deadline, and reject with a grpc-js-shaped error:
 * the replica set decides whether to try another replica, then translates.
 */
export class GrpcEndpoint implements Endpoint {
  private readonly channel: GrpcUnaryChannel;
  /** Unary methods sent as items of a stream instead (GrpcItemStream), by the name callers use. */
  private readonly streams = new Map<string, GrpcItemStream>();

  constructor(
    readonly service: string,
    readonly address: string,
    /** The unary methods, by the camelCase name callers use (`predict`) and the proto's (`Predict`). */
    private readonly methods: ReadonlyMap<string, UnaryMethod>,
    streamed: ReadonlyMap<string, ItemStreamMethod> = new Map(),
  ) {
    this.channel = new GrpcUnaryChannel(address, CHANNEL_OPTIONS);
    for (const [name, method] of streamed) this.streams.set(name, new GrpcItemStream(this.channel, method, CHANNEL_OPTIONS.maxMessageBytes));
  }

  /**
   * Endpoints of one service (a grpc-js constructor, as loadGrpcObject gives it), its methods read
   * once for all replicas. `streamed` maps a unary method to the bidirectional method that carries
   * its requests as items (`{ predict: 'PredictStream' }`): calls of it go over that stream.
   */
  static factory(service: string, ctor: grpc.ServiceClientConstructor, streamed: Record<string, string> = {}): EndpointFactory {
    const methods = new Map<string, UnaryMethod>();
    const defs = new Map<string, grpc.MethodDefinition<unknown, unknown>>();
    for (const [name, def] of Object.entries(ctor.service)) {
      defs.set(def.originalName ?? name, def);
      defs.set(name, def);
      // The hops are unary; a streaming method (Health.Watch) is left out rather than sent as if it were one.
      if (def.requestStream || def.responseStream) continue;
      const method: UnaryMethod = { path: def.path, requestSerialize: def.requestSerialize, responseDeserialize: def.responseDeserialize };
      methods.set(name, method);
      if (def.originalName) methods.set(def.originalName, method);
    }
    const streams = new Map<string, ItemStreamMethod>();
    for (const [unaryName, streamName] of Object.entries(streamed)) {
      const def = defs.get(streamName);
      const unary = methods.get(unaryName);
      if (!def || !def.requestStream || !def.responseStream || !unary) throw new Error(`${service} has no bidirectional ${streamName} for ${unaryName}`);
      streams.set(unaryName, { path: def.path, requestSerialize: def.requestSerialize, responseDeserialize: def.responseDeserialize, unary });
    }
    return (address) => new GrpcEndpoint(service, address, methods, streams);
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
          links: options.links?.map((context) => ({ context })),
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
    const stream = this.streams.get(method);
    if (stream) return stream.call<T>(request, outgoingMetadata(options.context), options.deadline, options.cancellation);
    const def = this.methods.get(method);
    if (!def) return Promise.reject(callError(grpc.status.UNIMPLEMENTED, `${this.service} has no method ${method}`));
    return this.channel.unary<T>(def, request, outgoingMetadata(options.context), options.deadline);
  }

  renew(): void {
    for (const stream of this.streams.values()) stream.renew();
    this.channel.renew();
  }

  close(): void {
    for (const stream of this.streams.values()) stream.close();
    this.channel.close();
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
export function outgoingMetadata(ctx?: RequestContext): Record<string, string> {
  if (!ctx) return {};
  return ctx.traceparent ? { [REQUEST_ID_HEADER]: ctx.requestId, [TRACEPARENT_HEADER]: ctx.traceparent } : { [REQUEST_ID_HEADER]: ctx.requestId };
}
