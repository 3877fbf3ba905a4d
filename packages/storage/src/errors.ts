/** A blob key, KV scope, key or log name that the storage contract does not allow. */
export class InvalidKeyError extends Error {
  override name = 'InvalidKeyError';
}

/**
 * A write the store may or may not keep: applied where the store applies writes first, but not
 * confirmed durable as configured. A caller reports its outcome as unknown, never as success and
 * never as "nothing changed".
 */
export class WriteOutcomeUnknown extends Error {
  override name = 'WriteOutcomeUnknown';
}

/**
 * The store did not answer, or answered that it cannot serve now: a refused, dropped or silent
 * connection, a timeout, an HTTP 5xx or a throttling answer. Nothing is wrong with the call, and
 * the same call may succeed later. The message names the store and what was being done; the
 * transport's own error is the cause.
 */
export class StoreUnavailable extends Error {
  override name = 'StoreUnavailable';
}

/**
 * The store has no room for a write: a full disk or an exhausted quota (ENOSPC or EDQUOT from
 * the file system, SQLITE_FULL, S3's QuotaExceeded). Nothing is wrong with the call and the
 * write did not happen; the same call succeeds once space is freed. The message names the
 * store; the system's own error is the cause.
 */
export class StorageFull extends Error {
  override name = 'StorageFull';
}

/** How deep a chain of causes is followed: errors wrap a system error once or twice on its way up. */
const MAX_CAUSE_DEPTH = 8;

/** `error` and the errors it wraps as `cause`, outermost first, at most MAX_CAUSE_DEPTH of them. */
export function* causeChain(error: unknown): Generator<Error> {
  let current = error;
  for (let depth = 0; current instanceof Error && depth < MAX_CAUSE_DEPTH; depth++) {
    yield current;
    current = current.cause;
  }
}

/**
 * Whether `error`, or one of its causes, says a disk or a quota is full (StorageFull, ENOSPC,
 * EDQUOT, SQLITE_FULL): a write that did not happen. A WriteOutcomeUnknown on the way is not,
 * whatever full store it came from: that write may have happened.
 */
export function isOutOfSpace(error: unknown): boolean {
  for (const current of causeChain(error)) {
    if (current instanceof WriteOutcomeUnknown) return false;
    if (current instanceof StorageFull) return true;
    const code = (current as { code?: unknown }).code;
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') return true;
  }
  return false;
}
