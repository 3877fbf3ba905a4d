// Classifies errors of the AWS SDK by HTTP status as well as by name: S3-compatible stores
// do not always send the error codes AWS documents (a HEAD has no body to carry one).

interface SdkError {
  name?: string;
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

/** `error` with what was being done, keeping the original as cause. */
export function s3Error(what: string, error: unknown): Error {
  const code = status(error);
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`S3 ${what} failed${code ? ` (HTTP ${code})` : ''}: ${message}`, { cause: error });
}
