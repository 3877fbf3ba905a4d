/**
 * Where a worker's old generation starts, in MiB: V8's --initial-old-space-size.
 *
 * V8 sets the old generation's limit from the heap left alive by each full collection. A
 * worker's is small (about 40 MiB while serving git.git), so the limit lands within a new
 * space's capacity of it, and V8 starts the next incremental marking as soon as the last one
 * ends, although almost nothing outlives a young collection: each full clone of git.git ran
 * about 30 full collections, 1 s of the main thread. Starting at 128 MiB, it ran 2.
 * Measured in one process serving git.git, repacked, warm runs: server CPU of a full clone
 * 3.1–3.3 → 1.3–2.0 s, of a blob:none clone 1.4 → 0.66–0.85 s, of a fetch of 100 commits
 * 0.13–0.31 → 0.10–0.12 s; the process's peak RSS 300–320 → 330–380 MiB.
 */
export const WORKER_INITIAL_OLD_SPACE_MIB = 128;

const INITIAL_HEAP_OPTION = /^--initial[-_](old[-_]space|heap)[-_]size\b/;

/**
 * V8 options the workers start with beside the primary's own (cluster's execArgv): none when the
 * operator sized the initial heap already on node's command line (node refuses both options in
 * NODE_OPTIONS).
 */
export function workerHeapOptions(execArgv: readonly string[]): string[] {
  if (execArgv.some((option) => INITIAL_HEAP_OPTION.test(option))) return [];
  return [`--initial-old-space-size=${WORKER_INITIAL_OLD_SPACE_MIB}`];
}
