import * as grpc from '@grpc/grpc-js';
import { Logger } from '@nestjs/common';
import { ErrorCode, ServableError } from '@servable/contracts';
import type { grpcHealthV1 } from '@servable/contracts/grpc';
import { translateGrpcError, type DownstreamCallOptions, type Endpoint, type EndpointFactory } from './grpc-downstream';
import { parseTargets, resolveTargets, type Target } from './targets';

/** What the gateway knows of one replica's grpc.health.v1 status. UNKNOWN: not checked yet. */
export type ReplicaStatus = 'SERVING' | 'NOT_SERVING' | 'UNREACHABLE' | 'UNKNOWN';

export interface ReplicaHealth {
  address: string;
  status: ReplicaStatus;
  /** Why it is not SERVING, as the last check saw it. */
  detail?: string;
}

/** A thing a replica holds: a version's TF Serving state (tokenizers are always AVAILABLE) and why it failed. */
export interface HeldState {
  state: string;
  detail?: string;
}

/** Below this much time left, a retry could not finish anyway: fail with the first error. */
const MIN_RETRY_BUDGET_MS = 20;
const HEALTH_TIMEOUT_MS = 1_000;

/**
 * Which replicas a call may go to, best first: SERVING and holding the key, SERVING, not known to be
 * down, and any (every check may be a second old: a replica marked down may be back, and a try costs
 * one refused connection).
 */
const TIERS: Array<(r: Replica, key: string | undefined) => boolean> = [
  (r, key) => r.serving && (key === undefined || r.has(key)),
  (r) => r.serving,
  (r) => r.status !== 'UNREACHABLE' && r.status !== 'NOT_SERVING',
  () => true,
];

/** One replica of a data-plane service: its connections (calls and health checks apart), its health, and what it holds. */
export class Replica {
  status: ReplicaStatus = 'UNKNOWN';
  detail?: string;
  /**
   * What this replica holds, as the reconcile loop last saw it: model versions
   * (`model/version` → state) on inference, tokenizer hashes on the tokenizer.
   * Requests for a thing go to replicas that hold it AVAILABLE.
   */
  holds = new Map<string, HeldState>();
  /** Calls this gateway has out on the replica now: pick() prefers the replica with the fewest. */
  inFlight = 0;

  constructor(
    readonly address: string,
    readonly api: Endpoint,
    readonly health: Endpoint,
  ) {}

  get serving(): boolean {
    return this.status === 'SERVING';
  }

  has(key: string): boolean {
    return this.holds.get(key)?.state === 'AVAILABLE';
  }

  markUnreachable(detail: string): void {
    this.status = 'UNREACHABLE';
    this.detail = detail;
  }

  close(): void {
    this.api.close();
    this.health.close();
  }
}

export interface ReplicaSetOptions {
  resolveIntervalMs: number;
  healthIntervalMs: number;
  /** A call was retried on another replica (or a fresh channel). */
  onRetry?: (service: string) => void;
  /** Membership or reachability changed, or a replica turned out not to hold what it should: reconcile soon. */
  onChange?: () => void;
}

/**
 * Every replica behind one data-plane address (a static list or a name resolving to many,
 * like a Kubernetes headless Service), each on a channel of its own, so the gateway can
 * reconcile each one and send a request only to a replica that is SERVING and holds what
 * it needs. grpc-js's own round-robin would pin nothing wrong, but it cannot say which
 * replica a call lands on, and so neither load a version everywhere nor avoid a replica
 * that lacks it.
 */
export class ReplicaSet {
  private readonly logger: Logger;
  private readonly targets: Target[];
  private readonly members = new Map<string, Replica>();
  private next = 0;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(
    readonly name: string,
    readonly url: string,
    private readonly api: EndpointFactory,
    private readonly healthOf: EndpointFactory,
    private readonly options: ReplicaSetOptions,
  ) {
    this.logger = new Logger(`ReplicaSet(${name})`);
    this.targets = parseTargets(url);
  }

  /** Resolves the addresses and checks every replica once, then keeps doing both in the background. */
  async start(): Promise<void> {
    await this.refresh();
    await this.checkHealth();
    const every = (ms: number, fn: () => Promise<void>) => {
      const t = setInterval(() => void fn().catch((err: Error) => this.logger.warn(err.message)), ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.options.resolveIntervalMs, () => this.refresh());
    every(this.options.healthIntervalMs, () => this.checkHealth());
  }

  replicas(): Replica[] {
    return [...this.members.values()];
  }

  health(): ReplicaHealth[] {
    return this.replicas().map((r) => ({ address: r.address, status: r.status, ...(r.detail ? { detail: r.detail } : {}) }));
  }

  /** Re-resolves the names: new addresses get a replica, vanished ones are closed. */
  async refresh(): Promise<void> {
    if (this.closed) return;
    const { addresses, errors } = await resolveTargets(this.targets);
    for (const e of errors) this.logger.warn(`cannot resolve ${e}`);
    // A failed lookup of every name keeps the replicas known so far rather than dropping them all.
    if (addresses.length === 0) return;
    let changed = false;
    for (const address of addresses) {
      if (this.members.has(address)) continue;
      this.members.set(address, new Replica(address, this.api(address), this.healthOf(address)));
      changed = true;
    }
    for (const [address, replica] of this.members) {
      if (addresses.includes(address)) continue;
      this.members.delete(address);
      replica.close();
      changed = true;
    }
    if (changed) {
      this.logger.log(`${this.name} replicas: ${addresses.join(', ')}`);
      this.options.onChange?.();
    }
  }

  /** grpc.health.v1 Check of every replica, each bounded by a short timeout. */
  async checkHealth(): Promise<void> {
    let changed = false;
    await Promise.all(
      this.replicas().map(async (r) => {
        const before = r.status;
        try {
          const reply = await r.health.call<grpcHealthV1.HealthCheckResponse>('check', { service: '' }, { deadline: Date.now() + HEALTH_TIMEOUT_MS });
          r.status = reply.status === 'SERVING' ? 'SERVING' : 'NOT_SERVING';
          r.detail = r.status === 'SERVING' ? undefined : `health: ${reply.status}`;
        } catch (err) {
          r.markUnreachable(translateGrpcError(err, this.name, r.address).message);
        }
        if (before !== r.status) {
          changed = true;
          if (before !== 'UNKNOWN' || r.status !== 'SERVING') this.logger.log(`${this.name} ${r.address}: ${before} → ${r.status}${r.detail ? ` (${r.detail})` : ''}`);
        }
      }),
    );
    if (changed) this.options.onChange?.();
  }

  /** At least one replica answers its health check with SERVING. */
  anyServing(): boolean {
    return this.replicas().some((r) => r.serving);
  }

  /**
   * Calls one replica: a SERVING one holding `key` if any does, else any SERVING one, else
   * whichever may answer. UNAVAILABLE, and (when a key says what the replica should hold)
   * NOT_FOUND or FAILED_PRECONDITION, are tried once more on another replica, or on a fresh
   * channel to the same one when it is the only one, while the deadline allows.
   */
  async call<T>(method: string, request: unknown, options: DownstreamCallOptions, key?: string): Promise<T> {
    const first = this.pick(key);
    if (!first) throw this.noReplica();
    try {
      return await this.attempt<T>(first, method, request, options);
    } catch (err) {
      const code = (err as grpc.ServiceError)?.code;
      const lacksIt = key !== undefined && (code === grpc.status.NOT_FOUND || code === grpc.status.FAILED_PRECONDITION || code === grpc.status.UNAVAILABLE);
      // The replica held it a moment ago and now says it does not: it restarted or unloaded it.
      const lost = lacksIt && code !== grpc.status.UNAVAILABLE && first.has(key);
      if (lacksIt && first.holds.delete(key)) this.options.onChange?.();
      if ((code !== grpc.status.UNAVAILABLE && !lacksIt) || options.deadline - Date.now() < MIN_RETRY_BUDGET_MS) {
        throw lost ? this.lostVersion(key, first) : translateGrpcError(err, this.name, first.address);
      }
      const second = this.pick(key, first);
      if (!second || (second === first && code !== grpc.status.UNAVAILABLE)) throw lost ? this.lostVersion(key, first) : translateGrpcError(err, this.name, first.address);
      if (second === first) first.api.renew();
      this.options.onRetry?.(this.name);
      try {
        return await this.attempt<T>(second, method, request, options);
      } catch (again) {
        throw translateGrpcError(again, this.name, second.address);
      }
    }
  }

  /**
   * A version the only replica that held it no longer has (a restart, an unload): transient,
   * since the reconcile loop loads it again, so UNAVAILABLE, which clients retry. Passing the
   * replica's FAILED_PRECONDITION on told the client to pin a version that was pinned.
   */
  private lostVersion(key: string, replica: Replica): ServableError {
    return new ServableError(ErrorCode.UNAVAILABLE, `${this.name} replica ${replica.address} no longer holds ${key} (it restarted or unloaded it); it is being loaded again, retry shortly`, {
      retryAfterSeconds: 1,
    });
  }

  private async attempt<T>(replica: Replica, method: string, request: unknown, options: DownstreamCallOptions): Promise<T> {
    replica.inFlight++;
    try {
      return await replica.api.call<T>(method, request, options);
    } finally {
      replica.inFlight--;
    }
  }

  /**
   * The best tier that is not empty: SERVING and holding the key, then SERVING, then not known
   * to be down, then any. Within it, the replicas with the fewest calls out (Envoy's least
   * request), round-robin among those: a merged Encode goes to the replica that has none out,
   * and Predict items spread by the items each replica has in flight.
   * `avoid` (the replica that just failed) is used only when nothing else is left, on a fresh
   * channel.
   */
  private pick(key: string | undefined, avoid?: Replica): Replica | undefined {
    const tier = this.tier(key, avoid);
    if (tier.length > 0) {
      const fewest = Math.min(...tier.map((r) => r.inFlight));
      const least = tier.filter((r) => r.inFlight === fewest);
      return least[this.next++ % least.length];
    }
    // Only the failed replica is left: one more try on a fresh channel (it may have restarted).
    return avoid && this.members.size === 1 ? avoid : undefined;
  }

  /** How many replicas a call for `key` is spread over now (the tier pick() chooses from), at least 1. */
  spread(key?: string): number {
    return Math.max(1, this.tier(key).length);
  }

  /** Read for every request (spread, then pick): each tier is only filtered when the ones before it are empty. */
  private tier(key: string | undefined, avoid?: Replica): Replica[] {
    const all = this.replicas().filter((r) => r !== avoid);
    for (const admits of TIERS) {
      const tier = all.filter((r) => admits(r, key));
      if (tier.length > 0) return tier;
    }
    return [];
  }

  private noReplica(): ServableError {
    const seen = this.health().map((h) => `${h.address} ${h.status}${h.detail ? ` (${h.detail})` : ''}`).join('; ');
    return new ServableError(ErrorCode.UNAVAILABLE, `no ${this.name} replica is available at ${this.url}${seen ? `: ${seen}` : ''}`, { retryAfterSeconds: 1 });
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const r of this.members.values()) r.close();
    this.members.clear();
  }
}
