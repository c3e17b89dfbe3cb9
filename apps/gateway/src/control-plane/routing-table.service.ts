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
  /** Refreshes begun, and the latest of them whose snapshot is in `table`. */
  private started = 0;
  private applied = 0;

  constructor(private readonly controlPlane: ControlPlane) {}

  /**
   * Reads the snapshot. A snapshot is applied unless one read by a later refresh is
   * already in place, so a slow older read never overwrites a newer one, and an awaited
   * refresh leaves the table at least as new as the database was when it began (even
   * while a later refresh, say one woken by the same change's NOTIFY, is still reading).
   */
  async refresh(): Promise<void> {
    const mine = ++this.started;
    const table = await loadRoutingSnapshot(this.controlPlane.db.dataSource);
    if (mine > this.applied) {
      this.applied = mine;
      this.table = table;
    }
  }

  get(model: string): ModelRouting | undefined {
    return this.table.get(model);
  }

  /** The version a label points at; read per request, so no copy is made. Own labels only: "constructor" is not one. */
  label(model: string, label: string): number | undefined {
    const labels = this.table.get(model)?.labels;
    return labels && Object.hasOwn(labels, label) ? labels[label] : undefined;
  }

  labels(model: string): Map<string, number> {
    return new Map(Object.entries(this.table.get(model)?.labels ?? {}));
  }
}
