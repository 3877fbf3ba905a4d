import { createHash } from 'node:crypto';

/**
 * Rendezvous (highest-random-weight) hashing: every name gets a pseudo-random weight for
 * `key`, and the names sorted by falling weight are the key's placement order. Adding or
 * removing a name moves only the keys whose first R entries change, and every process that
 * knows the same names computes the same order without any shared state.
 *
 * @returns indexes into `names`, the preferred first.
 */
export function rendezvousOrder(key: string, names: readonly string[]): number[] {
  const weights = names.map((name) => weight(name, key));
  return names
    .map((_, index) => index)
    .sort((a, b) => (weights[a] > weights[b] ? -1 : weights[a] < weights[b] ? 1 : names[a] < names[b] ? -1 : 1));
}

function weight(name: string, key: string): bigint {
  // A NUL separates the parts: no store name or key contains one, so no two pairs collide.
  return createHash('sha256').update(name).update('\0').update(key).digest().readBigUInt64BE(0);
}
