import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ControlPlane, ModelRouting } from '@servable/persistence';

const reads: Array<(table: Map<string, ModelRouting>) => void> = [];
vi.mock('@servable/persistence', () => ({
  // The class is only a dependency-injection token here.
  ControlPlane: class {},
  loadRoutingSnapshot: () => new Promise<Map<string, ModelRouting>>((resolve) => reads.push(resolve)),
}));
const { RoutingTable } = await import('./routing-table.service');

/** A table whose every snapshot read waits in `reads` until the test resolves it. */
const newTable = () => new RoutingTable({ db: { dataSource: {} } } as unknown as ControlPlane);
const snapshot = (stable: number) => new Map([['spam', { model: 'spam', versions: [], labels: { stable }, available: [1, 2] } satisfies ModelRouting]]);

describe('RoutingTable.refresh', () => {
  afterEach(() => void reads.splice(0));

  it('applies a finished refresh at once, even while a later one is still reading', async () => {
    const table = newTable();
    const first = table.refresh();
    const second = table.refresh();
    reads[0](snapshot(1));
    await first;
    expect(table.label('spam', 'stable')).toBe(1);
    reads[1](snapshot(2));
    await second;
    expect(table.label('spam', 'stable')).toBe(2);
  });

  it('never lets an older read overwrite a newer one', async () => {
    const table = newTable();
    const older = table.refresh();
    const newer = table.refresh();
    reads[1](snapshot(2));
    await newer;
    reads[0](snapshot(1));
    await older;
    expect(table.label('spam', 'stable')).toBe(2);
  });
});
