import { StoreUnavailable } from '../errors.js';

/** A store that did not answer within the time it was given. */
export class StoreTimeoutError extends StoreUnavailable {
  override name = 'StoreTimeoutError';
}

/**
 * `operation`, or a StoreTimeoutError after `ms` (no limit when `ms` is 0 or Infinity).
 * The operation itself cannot be cancelled: when it resolves after the deadline, its result
 * goes to `late` so that open streams get closed and stray writes undone.
 */
export function withTimeout<T>(operation: Promise<T>, ms: number, what: string, late?: (result: T) => void): Promise<T> {
  if (!(ms > 0 && Number.isFinite(ms))) return operation;
  return new Promise<T>((resolve, reject) => {
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      reject(new StoreTimeoutError(`${what}: no answer within ${ms} ms`));
    }, ms);
    operation.then(
      (result) => {
        if (expired) late?.(result);
        else {
          clearTimeout(timer);
          resolve(result);
        }
      },
      (error: unknown) => {
        if (expired) return;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
