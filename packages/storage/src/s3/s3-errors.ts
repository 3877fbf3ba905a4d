// Classifies errors of the AWS SDK by HTTP status as well as by name: S3-compatible stores
// do not always send the error codes AWS documents (a HEAD has no body to carry one).

import { StorageFull, StoreUnavailable } from '../errors.js';

interface SdkError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

function status(error: unknown): number | undefined {
  return (error as SdkError | null)?.$metadata?.httpStatusCode;
}

function named(error: unknown, ...names: string[]): boolean {
  return names.includes((error as SdkError | null)?.name ?? '');
}

export function isNotFound(error: unknown): boolean {
  return status(error) === 404 || named(error, 'NoSuchKey', 'NotFound');
}

export function isPreconditionFailed(error: unknown): boolean {
  return status(error) === 412 || named(error, 'PreconditionFailed');
}

/** AWS: another conditional write of the same key was in progress; the caller should retry. */
export function isConditionalConflict(error: unknown): boolean {
  return status(error) === 409 && named(error, 'ConditionalRequestConflict');
}

export function isRangeNotSatisfiable(error: unknown): boolean {
  return status(error) === 416 || named(error, 'InvalidRange');
}

/** Errors of a connection that failed or went silent before an answer, as Node and the SDK's handler name them. */
const TRANSPORT_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** The SDK's names for a request given up: its socket timeout, an abort signal's deadline, S3's own request timeout. */
const GIVEN_UP_NAMES = ['TimeoutError', 'AbortError', 'RequestTimeout'];

/**
 * Whether the store could not serve the call now, through no fault of the call: no answer (a
 * connection refused, cut or silent), a 5xx, or throttling (429, SlowDown). A 4xx otherwise is
 * an answer about the call (denied, malformed), and an error without a status of another kind
 * is a fault of ours.
 */
export function isUnavailable(error: unknown): boolean {
  const code = status(error);
  if (code !== undefined) return code >= 500 || code === 429;
  const transport = (error as SdkError | null)?.code;
  return named(error, ...GIVEN_UP_NAMES, 'SlowDown') || (transport !== undefined && TRANSPORT_ERROR_CODES.has(transport));
}

/** The bucket's or the user's quota is used up (radosgw's and MinIO's QuotaExceeded), or the store's disks are full (507). */
export function isStorageFull(error: unknown): boolean {
  return status(error) === 507 || named(error, 'QuotaExceeded', 'XMinioStorageFull');
}

/**
 * `error` with what was being done, keeping the original as cause: a StorageFull when the store
 * has no room for it, a StoreUnavailable when it could not serve it now.
 */
export function s3Error(what: string, error: unknown): Error {
  const code = status(error);
  const message = error instanceof Error ? error.message : String(error);
  const described = `S3 ${what} failed${code ? ` (HTTP ${code})` : ''}: ${message}`;
  if (isStorageFull(error)) return new StorageFull(described, { cause: error });
  return isUnavailable(error) ? new StoreUnavailable(described, { cause: error }) : new Error(described, { cause: error });
}
