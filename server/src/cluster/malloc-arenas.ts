/**
 * What the workers' C allocator is told through their environment.
 *
 * glibc's malloc gives threads that allocate at once arenas of their own (up to eight per core)
 * and keeps what is freed in each for that arena's next allocations. A worker's index threads
 * inflate and hash a whole pushed pack in theirs: after a push of git's history, one worker
 * still held about 180 MiB in them, which the clone it served next could not reuse (the main
 * thread allocates from the main arena), and went over 512 MiB. With one arena, memory freed by
 * any thread is reused by every other. Measured on git.git with two workers: a worker's peak
 * during the push 530 → 445 MiB, during a clone after it 418 → 296 MiB; push and clone times
 * the same within their spread. The workers' threads take turns at that arena's lock rarely
 * enough not to show.
 *
 * An operator's own MALLOC_ARENA_MAX, or an arena_max in GLIBC_TUNABLES, is left as it is.
 * Other C libraries (musl) ignore the variable.
 */
export function workerMallocEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  if (env.MALLOC_ARENA_MAX !== undefined || /\bglibc\.malloc\.arena_max=/.test(env.GLIBC_TUNABLES ?? '')) return {};
  return { MALLOC_ARENA_MAX: '1' };
}
