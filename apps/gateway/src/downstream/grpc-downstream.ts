import * as grpc from '@grpc/grpc-js';
import { ErrorCode, ServableError } from '@servable/contracts';
import { GRPC_CHANNEL_OPTIONS, fromGrpcError } from '@servable/contracts/grpc';
import { REQUEST_ID_HEADER, TRACEPARENT_HEADER, type RequestContext } from '@servable/observability';

type ClientCtor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client;
type Unary = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, reply: unknown) => void) => void;

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  ...GRPC_CHANNEL_OPTIONS,
  // A replacement channel must not reuse the broken connection from the global subchannel pool.
  'grpc.use_local_subchannel_pool': 1,
  // A restarted replica is found within a second or two, not after minutes of exponential backoff.
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2_000,
  'grpc.keepalive_time_ms': 30_000,
  // The retry below (once, on a fresh channel, within the deadline) is the only one; grpc-js's own
  // retry layer would also keep a copy of every request message in case it retries transparently.
  'grpc.enable_retries': 0,
};

/** Below this much time left, a retry could not finish anyway: fail with the first error. */
const MIN_RETRY_BUDGET_MS = 20;

export interface DownstreamCallOptions {
  /** Absolute deadline (epoch ms), passed on as the call's grpc-timeout. */
  deadline: number;
  /** The request this call serves: its x-request-id and traceparent go with the call. */
  context?: RequestContext;
}

/**
 * One data-plane service behind a grpc-js channel. Every call carries the
 * request's x-request-id and traceparent and its deadline; a call that fails
 * with UNAVAILABLE is retried once on a fresh channel (the old one may hold a
 * dead connection or sit in reconnect backoff) while the deadline allows.
 */
export class GrpcDownstream {
  private client: grpc.Client;

  constructor(
    readonly name: string,
    readonly address: string,
    private readonly ctor: ClientCtor,
    private readonly onRetry: (service: string) => void = () => undefined,
  ) {
    this.client = this.connect();
  }

  private connect(): grpc.Client {
    return new this.ctor(this.address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  }

  async call<T>(method: string, request: unknown, options: DownstreamCallOptions): Promise<T> {
    try {
      return await this.once<T>(this.client, method, request, options);
    } catch (err) {
      const e = err as grpc.ServiceError;
      if (e?.code !== grpc.status.UNAVAILABLE || options.deadline - Date.now() < MIN_RETRY_BUDGET_MS) {
        throw this.translate(err);
      }
      this.onRetry(this.name);
      this.renew();
      try {
        return await this.once<T>(this.client, method, request, options);
      } catch (again) {
        throw this.translate(again);
      }
    }
  }

  /** Swaps in a new channel; calls still running on the old one finish before it closes. */
  private renew(): void {
    const old = this.client;
    this.client = this.connect();
    setTimeout(() => old.close(), 10_000).unref();
  }

  private once<T>(client: grpc.Client, method: string, request: unknown, options: DownstreamCallOptions): Promise<T> {
    const fn = (client as unknown as Record<string, Unary>)[method];
    if (typeof fn !== 'function') throw new Error(`${this.name} has no method ${method}`);
    return new Promise<T>((resolve, reject) => {
      fn.call(client, request, outgoingMetadata(options.context), { deadline: options.deadline }, (err, reply) =>
        err ? reject(err) : resolve(reply as T),
      );
    });
  }

  private translate(err: unknown): ServableError {
    const e = fromGrpcError(err);
    if (e.code === ErrorCode.UNAVAILABLE) {
      return new ServableError(ErrorCode.UNAVAILABLE, `${this.name} is unavailable at ${this.address}: ${e.message}`, {
        cause: err,
        retryAfterSeconds: 1,
      });
    }
    if (e.code === ErrorCode.DEADLINE_EXCEEDED) {
      return new ServableError(ErrorCode.DEADLINE_EXCEEDED, `deadline exceeded waiting for ${this.name}`, { cause: err });
    }
    return e;
  }

  close(): void {
    this.client.close();
  }
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
