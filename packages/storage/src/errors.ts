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
