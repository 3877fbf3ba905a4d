/** A blob key, KV scope, key or log name that the storage contract does not allow. */
export class InvalidKeyError extends Error {
  override name = 'InvalidKeyError';
}
