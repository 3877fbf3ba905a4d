import { Counter, Gauge } from 'prom-client';
import type { CacheStats } from '@gitfleet/git-format';
import {
  sharedCommitGraphCache,
  sharedDeltaBaseCache,
  sharedPackBitmapsCache,
  sharedPackIndexCache,
  sharedReencodedEntryCache,
  sharedRefListingCache,
  type Stores,
} from '@gitfleet/repository';
import { metricsRegistry } from './registry.js';

/** The caches read at each scrape, by name. A later cache of the same name replaces the earlier (one server per process). */
const watched = new Map<string, { stats(): CacheStats }>();

/**
 * A metric of every watched cache read from the caches' own stats at scrape time: a counter of
 * their counts (Prometheus computes rates of it) or a gauge of what they hold.
 */
function fromStats(type: 'counter' | 'gauge', name: string, help: string, field: keyof CacheStats): void {
  const definition = { name, help, labelNames: ['cache'] as const, registers: [metricsRegistry] };
  const each = (record: (labels: { cache: string }, value: number) => void) => {
    for (const [cache, source] of watched) record({ cache }, source.stats()[field]);
  };
  if (type === 'counter') {
    new Counter({
      ...definition,
      collect() {
        this.reset();
        each((labels, value) => this.inc(labels, value));
      },
    });
  } else {
    new Gauge({
      ...definition,
      collect() {
        each((labels, value) => this.set(labels, value));
      },
    });
  }
}

fromStats('counter', 'gitfleet_cache_hits_total', 'Lookups answered from the cache', 'hits');
fromStats(
  'counter',
  'gitfleet_cache_misses_total',
  'Lookups the cache could not answer (loaded, computed or read from the store instead)',
  'misses',
);
fromStats('gauge', 'gitfleet_cache_bytes', 'Bytes the cache holds (for the sidecar caches, an estimate made before loading)', 'bytes');
fromStats('gauge', 'gitfleet_cache_max_bytes', 'Bytes the cache may hold', 'maxBytes');
fromStats('gauge', 'gitfleet_cache_entries', 'Entries the cache holds', 'entries');

export function watchCache(name: string, cache: { stats(): CacheStats }): void {
  watched.set(name, cache);
}

/** The caches of the repository layer these stores use (a process-wide default where they configure none). */
export function watchRepositoryCaches(stores: Stores): void {
  watchCache('block', stores.cache);
  watchCache('pack-index', stores.indexes ?? sharedPackIndexCache);
  watchCache('delta-base', stores.deltaBases ?? sharedDeltaBaseCache);
  watchCache('reencoded-entry', stores.reencodedEntries ?? sharedReencodedEntryCache);
  watchCache('bitmap', stores.bitmaps ?? sharedPackBitmapsCache);
  watchCache('commit-graph', stores.commitGraphs ?? sharedCommitGraphCache);
  watchCache('ref-listing', stores.refListings ?? sharedRefListingCache);
}
