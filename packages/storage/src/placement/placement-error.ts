import { StorageFull, StoreUnavailable, isOutOfSpace } from '../errors.js';

/** A PlacementBlobStore that was misconfigured, or whose stores failed in a way no retry mends. */
export class PlacementError extends Error {
  override name = 'PlacementError';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What one store of a placement failed with. */
export interface StoreFailure {
  store: string;
  error: unknown;
}

/**
 * The error of an operation that not enough stores of a placement could carry out, listing each
 * store's failure: StorageFull when every store that failed was full, StoreUnavailable when each
 * was full or out of reach (the same call may succeed later), a PlacementError otherwise.
 */
export function placementFailure(what: string, failures: readonly StoreFailure[]): Error {
  const message = `${what} (${failures.map(({ store, error }) => `${store}: ${errorMessage(error)}`).join('; ')})`;
  if (failures.length === 0) return new PlacementError(message);
  // A store that was not full, if any, is the cause: the whole is "no space left" only when every store is full.
  const notFull = failures.find(({ error }) => !isOutOfSpace(error));
  if (!notFull) return new StorageFull(message, { cause: failures[0].error });
  if (failures.every(({ error }) => isOutOfSpace(error) || error instanceof StoreUnavailable)) {
    return new StoreUnavailable(message, { cause: notFull.error });
  }
  return new PlacementError(message, { cause: notFull.error });
}
