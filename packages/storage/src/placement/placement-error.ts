/** A PlacementBlobStore that could not reach enough stores, or only stores that failed. */
export class PlacementError extends Error {
  override name = 'PlacementError';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
