/**
 * What can go wrong in an operation, said once for every surface. Each error of the packages
 * and of the operations has a kind; each kind has one HTTP status and one CLI exit code. The
 * surfaces keep only their body format: JSON `{message}` (API), an HTML page (web), plain text
 * (git), a line on stderr (CLI).
 */
import { AccountConflict, AccountNotFound, InvalidAccountInput } from '@gitfleet/accounts';
import { PathNotFound, PoolBusy, RevisionNotFound } from '@gitfleet/browse';
import { StatusesBusy } from '@gitfleet/events';
import {
  InvalidRepositoryName,
  ObjectReadsBusy,
  RepositoryExists,
  TransactionOutcomeUnknown,
  type RepositoryInfo,
} from '@gitfleet/repository';
import { StoreUnavailable, WriteOutcomeUnknown, causeChain, isOutOfSpace } from '@gitfleet/storage';
import { HttpError } from '../http-errors.js';

export type ErrorKind = 'invalid' | 'not-found' | 'conflict' | 'in-use' | 'forbidden' | 'busy' | 'unavailable' | 'full';

/** A refusal of an operation; its kind decides each surface's answer. */
export abstract class OperationError extends Error {
  abstract readonly kind: ErrorKind;
}

/** No user or organisation of that name. */
export class OwnerNotFound extends OperationError {
  readonly kind = 'not-found';
  constructor(readonly owner: string) {
    super(`user or organization ${owner} not found`);
    this.name = 'OwnerNotFound';
  }
}

/** The creator may not create repositories under that owner. */
export class CreationRefused extends OperationError {
  readonly kind = 'forbidden';
  constructor(
    readonly creator: string,
    readonly owner: string,
  ) {
    super(`${creator} may not create repositories under ${owner}`);
    this.name = 'CreationRefused';
  }
}

/** An account that still owns repositories cannot be deleted: they would be left without an owner. */
export class OwnerHasRepositories extends OperationError {
  readonly kind = 'in-use';
  constructor(
    readonly ownerKind: 'user' | 'organization',
    readonly owner: string,
    readonly repositories: readonly RepositoryInfo[],
  ) {
    super(
      `${ownerKind} ${owner} still owns ${repositories.length} repositor${repositories.length === 1 ? 'y' : 'ies'}; delete or transfer them first`,
    );
    this.name = 'OwnerHasRepositories';
  }
}

/** A default branch that does not exist in a repository that has branches. */
export class BranchNotFound extends OperationError {
  readonly kind = 'invalid';
  constructor(
    readonly branch: string,
    readonly repository: RepositoryInfo,
  ) {
    super(`branch ${branch} does not exist in ${repository.owner}/${repository.name}`);
    this.name = 'BranchNotFound';
  }
}

/** The kind of a known error, undefined for anything else (a fault, or an error only one surface knows). */
export function errorKind(error: unknown): ErrorKind | undefined {
  if (error instanceof OperationError) return error.kind;
  if (error instanceof AccountNotFound || error instanceof RevisionNotFound || error instanceof PathNotFound) return 'not-found';
  if (error instanceof AccountConflict || error instanceof RepositoryExists) return 'conflict';
  if (error instanceof InvalidAccountInput || error instanceof InvalidRepositoryName) return 'invalid';
  // The server is at a bound (worker queue, bytes rebuilt in memory, writers racing on one
  // repository's statuses): nothing is wrong with the request.
  if (error instanceof PoolBusy || error instanceof ObjectReadsBusy || error instanceof StatusesBusy) return 'busy';
  if (storeFailure(error)) return 'unavailable';
  if (isFull(error)) return 'full';
  return undefined;
}

/**
 * A store had no room for a write that therefore did not happen. Not a ref or registry change
 * that committed but could not be journaled for want of space: its outcome is unknown.
 */
function isFull(error: unknown): boolean {
  for (const current of causeChain(error)) if (current instanceof TransactionOutcomeUnknown) return false;
  return isOutOfSpace(error);
}

/**
 * The error of a store that could not serve the operation now (StoreUnavailable), or could not
 * confirm a write (WriteOutcomeUnknown), when it is `error` or one of its causes: the errors of
 * the packages keep what they wrap as `cause`.
 */
function storeFailure(error: unknown): StoreUnavailable | WriteOutcomeUnknown | undefined {
  for (const current of causeChain(error)) {
    if (current instanceof StoreUnavailable || current instanceof WriteOutcomeUnknown) return current;
  }
  return undefined;
}

/** What a client waiting on a store is told to wait: the stores' own bounds (timeouts, retries) have run by then. */
export const STORE_RETRY_AFTER_SECONDS = 5;

/**
 * The Retry-After header of a refusal, for every surface to set as it is: the error's own
 * `retryAfterSeconds` (an HttpError's, or a package's busy error such as StatusesBusy), else
 * STORE_RETRY_AFTER_SECONDS when a store failed; none otherwise.
 */
export function retryAfterHeader(error: unknown): { 'Retry-After'?: string } {
  const own = (error as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  const seconds = typeof own === 'number' ? own : storeFailure(error) ? STORE_RETRY_AFTER_SECONDS : undefined;
  return seconds === undefined ? {} : { 'Retry-After': String(Math.ceil(seconds)) };
}

/**
 * What a client is told of a refusal: the error's message, except for a store's failure, whose
 * message names internals (keys, endpoints) and goes to the request's log line instead. A write
 * the store could not confirm may have been applied: the client is told to look before retrying.
 */
export function refusalMessage(error: unknown): string {
  const failure = storeFailure(error);
  if (failure instanceof WriteOutcomeUnknown) {
    return 'the storage did not confirm the change, which may or may not have been applied: check before trying again';
  }
  if (failure) return 'the storage is not answering for the moment: try again later';
  // Not "nothing was changed": an operation of several writes may have made some before it ran out.
  if (isFull(error)) return 'the server has no storage space left: free some, then try again';
  return error instanceof Error ? error.message : String(error);
}

export const HTTP_STATUS: Readonly<Record<ErrorKind, number>> = {
  invalid: 422,
  'not-found': 404,
  conflict: 409,
  // The request is well formed but what it would do is refused (GitHub's and Gitea's 422).
  'in-use': 422,
  forbidden: 403,
  busy: 503,
  // A store is out of reach or overloaded: the request may succeed later (GitHub's 503).
  unavailable: 503,
  // A disk or quota of the server is full: WebDAV's Insufficient Storage, as GitLab answers it.
  full: 507,
};

/**
 * The HTTP status of a refused request: an HttpError's own, a known error's kind's (a surface
 * may answer some kinds otherwise: `overrides`), or the 4xx that body-parser and the router put
 * on what they refuse; undefined for a server fault.
 */
export function httpStatusOf(error: unknown, overrides: Partial<Record<ErrorKind, number>> = {}): number | undefined {
  if (error instanceof HttpError) return error.status;
  const kind = errorKind(error);
  if (kind !== undefined) return overrides[kind] ?? HTTP_STATUS[kind];
  const status = (error as { status?: unknown } | undefined)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) return status;
  return undefined;
}
