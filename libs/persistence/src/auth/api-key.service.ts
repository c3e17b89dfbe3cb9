import { LRUCache } from 'lru-cache';
import { hasRole, type ApiKeyView } from '@servable/contracts/admin-api';
import { randomBytes } from 'node:crypto';
import { ErrorCode, ServableError, sha256Hex } from '@servable/contracts';
import { IsNull, type DataSource } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import { announceChange } from '../changes/change-notifier';
import { isInt32 } from '../database/int32';
import { isStoreUnreachable } from '../database/store-unreachable';
import { ApiKeyEntity, ROLES, type Role } from '../entities';

// admin > operator > client: admin does everything, operator rollouts and labels, client inference only.
export { hasRole, type ApiKeyView };

/** The audit actor of a key: who did it, readable and unique. */
export function actorOf(key: Pick<ApiKeyView, 'id' | 'name'>): string {
  return `key:${key.id}:${key.name}`;
}

/** The key from `Authorization: Bearer <key>` or `x-api-key: <key>`. */
// Module level: the bundle names a closure made per call (esbuild keepNames) with a defineProperty.
function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function extractApiKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = first(headers['authorization']);
  const bearer = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1] : undefined;
  return bearer ?? first(headers['x-api-key'])?.trim() ?? undefined;
}

function view(e: ApiKeyEntity): ApiKeyView {
  return {
    id: e.id,
    name: e.name,
    prefix: e.prefix,
    role: e.role,
    createdBy: e.createdBy,
    createdAt: e.createdAt.toISOString(),
    revokedAt: e.revokedAt?.toISOString() ?? null,
  };
}

export interface ApiKeyServiceOptions {
  /**
   * How long a verified key is trusted without asking the database again. Longer saves a
   * query per request; a revocation also clears the cache through the change notifier.
   */
  cacheTtlMs?: number;
  /** How long a key lookup may take before the database counts as unreachable for it. */
  lookupTimeoutMs?: number;
}

/**
 * A key lookup that fails because the database cannot be reached (refused, lost, or no
 * answer in lookupTimeoutMs). The data plane does not depend on the database for anything
 * else, so an outage of it must not fail every request.
 */
class StoreUnreachable extends Error {}

/**
 * API keys. A key is 32 random bytes, so a plain sha256 is enough to store it (scrypt
 * protects guessable passwords, not random tokens) and lets a request find its key by
 * one indexed lookup. The plaintext exists once: in create()'s answer.
 */
export class ApiKeyService {
  /** Verified keys by sha256; bounded, so a flood of distinct keys cannot grow it (only valid keys enter). */
  private readonly cache: LRUCache<string, ApiKeyView>;
  /**
   * Lookups in flight by sha256: when a key's entry expires, the requests in flight with it
   * (64 at a time under load, on every replica) share one query instead of one each. Not
   * lru-cache's own fetch(), which shares them too: its clear() rejects every fetch in flight
   * ("deleted"), and clearCache runs on every control-plane change, so requests would fail.
   */
  private readonly lookups = new Map<string, Promise<ApiKeyView>>();
  /** Bumped by clearCache, so a lookup that started before a revocation is not cached after it. */
  private generation = 0;
  private readonly lookupTimeoutMs: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    options: ApiKeyServiceOptions = {},
  ) {
    // noDeleteOnStaleGet: an expired entry stays, to answer for its key while the database is unreachable.
    this.cache = new LRUCache({ max: 10_000, ttl: options.cacheTtlMs ?? 5_000, noDeleteOnStaleGet: true });
    this.lookupTimeoutMs = options.lookupTimeoutMs ?? 2_000;
  }

  async create(input: { name: string; role: Role }, actor: string): Promise<{ key: string; apiKey: ApiKeyView }> {
    if (!ROLES.includes(input.role)) throw ServableError.invalid(`role must be one of ${ROLES.join(', ')}`);
    if (!input.name?.trim() || input.name.length > 128) throw ServableError.invalid('a key needs a name of 1 to 128 characters, not only spaces');
    const key = `svb_${randomBytes(32).toString('base64url')}`;
    const apiKey = await this.dataSource.transaction(async (m) => {
      const saved = await m.save(ApiKeyEntity, m.create(ApiKeyEntity, {
        name: input.name,
        prefix: key.slice(0, 12),
        keyHash: sha256Hex(key),
        role: input.role,
        createdBy: actor,
        revokedAt: null,
      }));
      const v = view(saved);
      await this.audit.record(m, { actor, action: 'api_key.create', target: `api_key:${v.id}`, after: v });
      await announceChange(m, { kind: 'api_key' });
      return v;
    });
    return { key, apiKey };
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.dataSource.getRepository(ApiKeyEntity).find({ order: { id: 'ASC' } })).map(view);
  }

  /**
   * Revokes a key; revoking a revoked key changes nothing. The last active admin key stays:
   * without it nobody could create keys again short of a restart with SERVABLE_ADMIN_KEY.
   */
  async revoke(id: number, actor: string): Promise<ApiKeyView> {
    const revoked = await this.dataSource.transaction(async (m) => {
      // Ids are int32 columns: a larger one names no key (PostgreSQL would refuse the query).
      const row = isInt32(id) ? await m.findOneBy(ApiKeyEntity, { id }) : null;
      if (!row) throw ServableError.notFound(`API key ${id} does not exist`);
      if (row.revokedAt) return view(row);
      if (row.role === 'admin') {
        // Locking the active admin keys makes two concurrent revocations of the last two take
        // turns: the second counts again after the first commits, and is refused.
        const admins = await m
          .getRepository(ApiKeyEntity)
          .createQueryBuilder('k')
          .setLock('pessimistic_write')
          .where('k.role = :role AND k.revokedAt IS NULL', { role: 'admin' })
          .getMany();
        if (admins.every((k) => k.id === id)) {
          throw new ServableError(
            ErrorCode.FAILED_PRECONDITION,
            `API key ${id} is the last active admin key; create another admin key before revoking it, or nobody could manage keys any more`,
          );
        }
      }
      const before = view(row);
      row.revokedAt = new Date();
      const after = view(await m.save(ApiKeyEntity, row));
      await this.audit.record(m, { actor, action: 'api_key.revoke', target: `api_key:${id}`, before, after });
      await announceChange(m, { kind: 'api_key' });
      return after;
    });
    this.clearCache();
    return revoked;
  }

  /**
   * The key's identity, or UNAUTHENTICATED for a missing, unknown or revoked key.
   *
   * While the database cannot be reached, a key verified since the last control-plane change
   * is still taken (its cache entry, however old): a PostgreSQL outage had turned every
   * inference request into a 500, and a hung one held them all past their deadline. A key not
   * seen since is UNAVAILABLE (503), which a client retries. A revocation clears the cache
   * (clearCache, on the change it announces), so no revoked key is ever taken this way.
   */
  async verify(key: string | undefined): Promise<ApiKeyView> {
    if (!key) throw new ServableError(ErrorCode.UNAUTHENTICATED, 'an API key is required: Authorization: Bearer <key> or x-api-key: <key>');
    const hash = sha256Hex(key);
    const cached = this.cache.get(hash);
    if (cached) return cached;
    let pending = this.lookups.get(hash);
    if (!pending) {
      const generation = this.generation;
      const lookup = this.lookup(hash).then(
        (v) => {
          if (generation === this.generation) this.cache.set(hash, v);
          return v;
        },
        (err: unknown) => {
          if (!(err instanceof StoreUnreachable)) throw err;
          const stale = generation === this.generation ? this.cache.get(hash, { allowStale: true }) : undefined;
          if (stale) return stale;
          // The cause (a host and port, a timeout) is the operator's to read in the log, not the caller's.
          throw new ServableError(ErrorCode.UNAVAILABLE, "the API key cannot be checked now: the control plane's database is unreachable; retry shortly", { cause: err });
        },
      );
      pending = lookup.finally(() => {
        if (this.lookups.get(hash) === pending) this.lookups.delete(hash);
      });
      this.lookups.set(hash, pending);
    }
    return pending;
  }

  private async lookup(hash: string): Promise<ApiKeyView> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnreachable(`no answer in ${this.lookupTimeoutMs} ms`)), this.lookupTimeoutMs);
    });
    try {
      const row = await Promise.race([this.dataSource.getRepository(ApiKeyEntity).findOneBy({ keyHash: hash, revokedAt: IsNull() }), timeout]).catch((err: unknown) => {
        throw isStoreUnreachable(err) ? new StoreUnreachable((err as Error).message) : err;
      });
      if (!row) throw new ServableError(ErrorCode.UNAUTHENTICATED, 'the API key is not valid');
      return view(row);
    } finally {
      clearTimeout(timer);
    }
  }

  /** verify() plus the role check: PERMISSION_DENIED when the key's role is below `required`. */
  async authorize(key: string | undefined, required: Role): Promise<ApiKeyView> {
    const v = await this.verify(key);
    if (!hasRole(v.role, required)) {
      throw new ServableError(ErrorCode.PERMISSION_DENIED, `this needs the ${required} role; key ${v.prefix}… has ${v.role}`);
    }
    return v;
  }

  /** Call on every config change (a key may have been revoked on another replica). */
  clearCache(): void {
    this.cache.clear();
    this.lookups.clear();
    this.generation++;
  }

  /**
   * The first start's admin key. With SERVABLE_ADMIN_KEY set, that key is registered as
   * admin (idempotently) and nothing is printed. Otherwise, when no admin key exists,
   * one is created and returned: the caller prints it once, it is never shown again.
   */
  async bootstrap(adminKey?: string): Promise<{ createdKey?: string }> {
    if (adminKey) {
      if (adminKey.length < 16) throw ServableError.invalid('SERVABLE_ADMIN_KEY must be at least 16 characters');
      const hash = sha256Hex(adminKey);
      const existing = await this.dataSource.getRepository(ApiKeyEntity).findOneBy({ keyHash: hash });
      if (existing && existing.role === 'admin' && !existing.revokedAt) return {};
      if (existing) throw new ServableError(ErrorCode.FAILED_PRECONDITION, 'SERVABLE_ADMIN_KEY is a revoked or non-admin key');
      await this.dataSource.transaction(async (m) => {
        const saved = await m.save(ApiKeyEntity, m.create(ApiKeyEntity, {
          name: 'SERVABLE_ADMIN_KEY',
          // A chosen key may be short: keep too little of it to help a guess.
          prefix: adminKey.slice(0, 4),
          keyHash: hash,
          role: 'admin',
          createdBy: 'system',
          revokedAt: null,
        }));
        await this.audit.record(m, { actor: 'system', action: 'api_key.create', target: `api_key:${saved.id}`, after: view(saved) });
      });
      return {};
    }
    const admins = await this.dataSource.getRepository(ApiKeyEntity).countBy({ role: 'admin', revokedAt: IsNull() });
    if (admins > 0) return {};
    const { key } = await this.create({ name: 'bootstrap admin', role: 'admin' }, 'system');
    return { createdKey: key };
  }
}
