import type { KVStore, PlacementLayout } from '@gitfleet/storage';
import { PLACEMENT_REPAIR_LEASE_SCOPE } from './placement-repair-lease.js';

/**
 * The fleet's placement layout (store names and R) in the KV, next to the repair lease. Cleanup
 * decides by the layout of the process that runs it: one configured with a lower R or fewer
 * stores than the servers that wrote the blobs would delete copies they count on. So cleanup
 * runs only where its layout is the recorded one. The first process that finds none records
 * its own; a change of layout is recorded on purpose (`gitfleet repair --accept-layout`).
 */
export const PLACEMENT_LAYOUT_KEY = 'placement-layout';

/** How the layout compares with the fleet's: `recorded` is the fleet's when it differs. */
export type LayoutCheck = { kind: 'matches' } | { kind: 'differs'; recorded: string } | { kind: 'unrecorded' };

/** The layout as stored: the same text for the same stores and R, whatever order they were configured in. */
export function layoutFingerprint(layout: PlacementLayout): string {
  return JSON.stringify({ stores: [...layout.stores].sort(), replicas: layout.replicas });
}

/**
 * Compares `layout` with the fleet's. A server records its own when the fleet has none (a new
 * fleet); `gitfleet repair` does not, so that a one-off command never sets the fleet's layout
 * unless told to.
 */
export async function checkFleetLayout(kv: KVStore, layout: PlacementLayout, options: { recordIfAbsent: boolean }): Promise<LayoutCheck> {
  const mine = layoutFingerprint(layout);
  let recorded = await kv.get(PLACEMENT_REPAIR_LEASE_SCOPE, PLACEMENT_LAYOUT_KEY);
  if (recorded === undefined && options.recordIfAbsent) {
    const { conflicts } = await kv.compareAndSwap(
      PLACEMENT_REPAIR_LEASE_SCOPE,
      [{ key: PLACEMENT_LAYOUT_KEY, expect: null, value: mine }],
      'all',
    );
    if (conflicts.length === 0) return { kind: 'matches' };
    recorded = await kv.get(PLACEMENT_REPAIR_LEASE_SCOPE, PLACEMENT_LAYOUT_KEY);
  }
  if (recorded === undefined) return { kind: 'unrecorded' };
  return recorded === mine ? { kind: 'matches' } : { kind: 'differs', recorded };
}

/** Records `layout` as the fleet's, whatever was recorded before: the step that rolls out a change of stores or R. */
export async function acceptFleetLayout(kv: KVStore, layout: PlacementLayout): Promise<void> {
  const mine = layoutFingerprint(layout);
  for (;;) {
    const recorded = await kv.get(PLACEMENT_REPAIR_LEASE_SCOPE, PLACEMENT_LAYOUT_KEY);
    if (recorded === mine) return;
    const { conflicts } = await kv.compareAndSwap(
      PLACEMENT_REPAIR_LEASE_SCOPE,
      [{ key: PLACEMENT_LAYOUT_KEY, expect: recorded ?? null, value: mine }],
      'all',
    );
    if (conflicts.length === 0) return;
  }
}

/** Why cleanup does not run here, for logs and the CLI's error; undefined when it may. */
export function layoutRefusal(layout: PlacementLayout, check: LayoutCheck): string | undefined {
  if (check.kind === 'matches') return undefined;
  const mine = layoutFingerprint(layout);
  if (check.kind === 'unrecorded')
    return `the fleet has no recorded placement layout: start a server, or record this process's ${mine} with \`gitfleet repair --accept-layout\``;
  return (
    `this process's placement layout ${mine} differs from the fleet's recorded ${check.recorded}: ` +
    'cleanup would judge copies by other preferred stores than the servers that wrote them. Give every server the same ' +
    'GITFLEET_PLACEMENT_STORES and GITFLEET_PLACEMENT_REPLICAS; once the fleet runs a new layout, record it with ' +
    '`gitfleet repair --accept-layout`'
  );
}
