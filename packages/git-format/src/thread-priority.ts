import { readdirSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { isMainThread } from 'node:worker_threads';

/**
 * The nice value of threads doing CPU-heavy work beside an event loop (indexing packs, diffs,
 * rendering, password hashing): with it, Linux gives the event loop a core first, so a burst of
 * such work cannot keep /healthz or any other request waiting for the CPU. They still take every
 * cycle the event loop leaves.
 */
export const BACKGROUND_NICE = 10;

/**
 * Lowers the priority of the calling thread (a worker thread's own module calls it as it loads).
 * Linux applies setpriority to a single thread when given its id; elsewhere, and where it is not
 * allowed, nothing changes: priority is an optimisation, never a requirement.
 */
export function lowerThisThreadPriority(): void {
  // Never an event loop's: a module meant for worker threads may be loaded by a main thread too.
  if (isMainThread) return;
  const tid = currentThreadId();
  if (tid !== undefined) lower(tid);
}

/**
 * Lowers the priority of every thread of this process but the main one: libuv's thread pool
 * (where argon2 hashes passwords and zlib compresses) and V8's helpers. Threads started later
 * inherit the priority of the thread that starts them, so worker threads call
 * lowerThisThreadPriority themselves.
 */
export function lowerHelperThreadsPriority(): void {
  for (const tid of threadsOfThisProcess()) if (tid !== process.pid) lower(tid);
}

/**
 * Lowers the priority of every thread of this process, its event loop too, and so of every
 * thread it starts later: for a process that works in the background of a server on the same
 * machine (maintenance), whose requests then get the cores first.
 */
export function lowerProcessPriority(): void {
  for (const tid of threadsOfThisProcess()) lower(tid);
}

function threadsOfThisProcess(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number);
  } catch {
    return [];
  }
}

function currentThreadId(): number | undefined {
  try {
    // "<pid>/task/<tid>"
    return Number(readlinkSync('/proc/thread-self').split('/').at(-1));
  } catch {
    return undefined;
  }
}

function lower(tid: number): void {
  try {
    setPriority(tid, BACKGROUND_NICE);
  } catch {
    // Not Linux, or not allowed: the thread keeps its priority.
  }
}
