import { defaultPoolThreads } from '@gitfleet/browse';
import { defaultIndexThreads } from '@gitfleet/protocol';
import type { ServerConfig } from '../config.js';

/** Which of the cluster's workers a process is: its slot stays the same when a worker is replaced. */
export interface WorkerSlot {
  /** 0 … count - 1. */
  index: number;
  count: number;
}

/**
 * The part of the machine's budgets that one of `slot.count` workers takes. Every GITFLEET_*
 * bound on memory, threads and admissions is meant for the whole machine; each worker applies
 * its share, so N workers together hold what one process would (caches, threads, spool disk,
 * password checks). Bytes are rounded down. Counts are rounded up, since a worker needs at
 * least one of each: a count smaller than the number of workers becomes one per worker.
 *
 * A cache's share may be smaller than one large item (a big repository's pack index or
 * bitmaps): the caches keep such an item alone rather than load it for every request.
 *
 * A client whose connections all land on one worker meets that worker's share of a per-client
 * bound sooner than the machine's bound.
 * The periodic maintenance sweep runs in one worker only: the others would repeat its scan.
 */
export function workerShare(config: ServerConfig, slot: WorkerSlot): ServerConfig {
  const n = slot.count;
  if (n <= 1) return config;
  const bytes = (value: number) => Math.floor(value / n);
  const count = (value: number) => Math.ceil(value / n);
  /** 0 stays 0 (the bound is off). */
  const countOrOff = (value: number) => (value === 0 ? 0 : count(value));
  return {
    ...config,
    packIndexing: {
      ...config.packIndexing,
      threads: count(config.packIndexing.threads ?? defaultIndexThreads()),
    },
    cache: {
      ...config.cache,
      maxBytes: bytes(config.cache.maxBytes),
      indexBytes: bytes(config.cache.indexBytes),
      deltaBaseBytes: bytes(config.cache.deltaBaseBytes),
      reencodedBytes: bytes(config.cache.reencodedBytes),
      bitmapBytes: bytes(config.cache.bitmapBytes),
      commitGraphBytes: bytes(config.cache.commitGraphBytes),
      refListingBytes: bytes(config.cache.refListingBytes),
    },
    connections: {
      ...config.connections,
      maxConnections: count(config.connections.maxConnections),
      maxConnectionsPerClient: countOrOff(config.connections.maxConnectionsPerClient),
    },
    pushes: {
      ...config.pushes,
      maxPushes: count(config.pushes.maxPushes),
      maxPushesPerAccount: count(config.pushes.maxPushesPerAccount),
    },
    hooks: { ...config.hooks, concurrency: count(config.hooks.concurrency) },
    browse: {
      ...config.browse,
      threads: count(config.browse.threads === 0 ? defaultPoolThreads() : config.browse.threads),
      diffCacheBytes: bytes(config.browse.diffCacheBytes),
      inMemoryReadBytes: bytes(config.browse.inMemoryReadBytes),
    },
    passwordChecks: {
      concurrent: count(config.passwordChecks.concurrent),
      queue: count(config.passwordChecks.queue),
      perIp: count(config.passwordChecks.perIp),
    },
    maintenance: { ...config.maintenance, sweepIntervalMs: slot.index === 0 ? config.maintenance.sweepIntervalMs : 0 },
  };
}
