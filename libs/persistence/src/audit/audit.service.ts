import type { AuditEventView } from '@servable/contracts/admin-api';
import { type DataSource, type EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm';
import { AuditEventEntity } from '../entities';

export type { AuditEventView };

export interface AuditInput {
  /** Who: "key:<id>:<name>" for an API key (see actorOf), "system" for start-up work. */
  actor: string;
  /** What: a dotted verb such as "label.move", "rollout.set", "api_key.create". */
  action: string;
  /** On what: "model:spam", "model:spam/2", "api_key:7". */
  target: string;
  before?: unknown;
  after?: unknown;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  /** Matches the target exactly or as a prefix ("model:spam" finds "model:spam/2"). */
  target?: string;
  from?: Date;
  to?: Date;
  /** Page size, at most 500. */
  limit?: number;
  /** Keyset paging: events older than this id (the previous page's nextBeforeId). */
  beforeId?: number;
}

/**
 * The audit trail. Writes take the mutation's EntityManager, so an event exists exactly
 * when its mutation committed. Nothing here updates or deletes, and a trigger refuses it.
 */
export class AuditService {
  constructor(private readonly dataSource: DataSource) {}

  async record(manager: EntityManager, input: AuditInput): Promise<void> {
    await manager.insert(AuditEventEntity, {
      actor: input.actor,
      action: input.action,
      target: input.target,
      before: input.before ?? null,
      after: input.after ?? null,
    } as QueryDeepPartialEntity<AuditEventEntity>);
  }

  async list(query: AuditQuery = {}): Promise<{ events: AuditEventView[]; nextBeforeId?: number }> {
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
    const qb = this.dataSource.getRepository(AuditEventEntity).createQueryBuilder('e').orderBy('e.id', 'DESC').limit(limit + 1);
    if (query.actor) qb.andWhere('e.actor = :actor', { actor: query.actor });
    if (query.action) qb.andWhere('e.action = :action', { action: query.action });
    if (query.target) qb.andWhere('(e.target = :target OR e.target LIKE :prefix)', { target: query.target, prefix: `${query.target}/%` });
    if (query.from) qb.andWhere('e.at >= :from', { from: query.from });
    if (query.to) qb.andWhere('e.at < :to', { to: query.to });
    if (query.beforeId) qb.andWhere('e.id < :beforeId', { beforeId: query.beforeId });
    const rows = await qb.getMany();
    const page = rows.slice(0, limit);
    return {
      events: page.map((e) => ({
        id: e.id,
        at: e.at.toISOString(),
        actor: e.actor,
        action: e.action,
        target: e.target,
        before: e.before ?? null,
        after: e.after ?? null,
      })),
      nextBeforeId: rows.length > limit ? page.at(-1)?.id : undefined,
    };
  }
}
