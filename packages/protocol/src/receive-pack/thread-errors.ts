import { StorageFull, isOutOfSpace } from '@gitfleet/storage';

/**
 * An index thread's failure reaches the main thread as a copy that keeps an Error's message and
 * cause, not its code: a full disk (ENOSPC appending a thin pack's bases) would read as any
 * failure. The thread throws crossingThreads(error); the main thread takes fromThread(error).
 */
const OUT_OF_SPACE = { outOfSpace: true } as const;

/** What the thread throws for `error`: a full disk marked in its cause. */
export function crossingThreads(error: unknown): unknown {
  return isOutOfSpace(error) ? new Error((error as Error).message, { cause: OUT_OF_SPACE }) : error;
}

/** The thread's failure as the main thread reports it: a full disk as StorageFull. */
export function fromThread(error: unknown): unknown {
  const marked = error instanceof Error && (error.cause as { outOfSpace?: unknown } | undefined)?.outOfSpace === true;
  return marked ? new StorageFull(error.message, { cause: error }) : error;
}
