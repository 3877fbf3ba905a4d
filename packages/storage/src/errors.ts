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
