import { Injectable } from '@nestjs/common';
import { ControlPlane, loadRoutingSnapshot, type ModelRouting } from '@servable/persistence';

/**
 * Labels, rollouts and AVAILABLE versions of every model, held in memory so no
 * request touches the database. Reloaded on every config change (LISTEN/NOTIFY or
 * the revision poll), so a change made on any replica applies here within a second.
 */
@Injectable()
export class RoutingTable {
  private table = new Map<string, ModelRouting>();
  private revision = 0;

  constructor(private readonly controlPlane: ControlPlane) {}

  /** Reads the snapshot; concurrent refreshes keep whichever started last. */
  async refresh(): Promise<void> {
    const mine = ++this.revision;
    const table = await loadRoutingSnapshot(this.controlPlane.db.dataSource);
    if (mine === this.revision) this.table = table;
  }

  get(model: string): ModelRouting | undefined {
    return this.table.get(model);
  }

  /** The version a label points at; read per request, so no copy is made. */
  label(model: string, label: string): number | undefined {
    return this.table.get(model)?.labels[label];
  }

  labels(model: string): Map<string, number> {
    return new Map(Object.entries(this.table.get(model)?.labels ?? {}));
  }
}
