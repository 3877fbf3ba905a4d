import { DiffCache, LineDiffPool, type DiffOptions } from '@gitfleet/browse';
import type { BrowseConfig } from './config.js';
import { RenderPool } from './web/render-pool.js';

/** What reading repositories shares across requests: the worker pools and the diff cache. */
export interface Browsing {
  config: BrowseConfig;
  diffs: LineDiffPool;
  diffCache: DiffCache;
  render: RenderPool;
  close(): Promise<void>;
}

export function openBrowsing(config: BrowseConfig): Browsing {
  const pool = { threads: config.threads, maxQueue: config.queue };
  const diffs = new LineDiffPool(pool);
  const render = new RenderPool(pool, config.renderTimeoutMs);
  return {
    config,
    diffs,
    diffCache: new DiffCache(config.diffCacheBytes),
    render,
    async close() {
      await Promise.all([diffs.close(), render.close()]);
    },
  };
}

/** A diff of one page or answer: the configured budget, and at most `maxFiles` files (each at most `maxFileBytes`). */
export function diffOptions(browsing: Browsing, limits: { maxFiles: number; maxFileBytes?: number }): DiffOptions {
  const { config } = browsing;
  return {
    pool: browsing.diffs,
    cache: browsing.diffCache,
    limits: { ...limits, maxLines: config.diffMaxLines, maxEditLength: config.diffMaxEditLength, timeMs: config.diffTimeMs },
  };
}
