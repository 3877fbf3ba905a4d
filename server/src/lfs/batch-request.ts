import { HttpError } from '../http-errors.js';

/** An object as a batch request names it; checked one by one (each gets its own error), so left unknown here. */
export interface LfsObjectSpec {
  oid: unknown;
  size: unknown;
}

export interface BatchRequest {
  operation: 'upload' | 'download';
  objects: LfsObjectSpec[];
  /** The transfer adapters the client offers; `basic` when it names none (the spec's default). */
  transfers: string[];
  /** The ref the objects belong to (`ref.name`), when the client says. */
  refName?: string;
}

/** The transfers this server speaks: `basic` both ways, and tus.io's resumable uploads (server/src/lfs/resumable-uploads.ts). */
const SUPPORTED_TRANSFERS = { download: ['basic'], upload: ['basic', 'tus'] } as const;

/**
 * The batch request in `body` (parsed JSON), or an HttpError for one the spec says to refuse
 * whole: 422 when malformed, 409 for a hash algorithm other than sha256, 413 for more objects
 * than `maxObjects`; 422 too when the client offers transfers and none this server speaks.
 */
export function parseBatchRequest(body: unknown, maxObjects: number): BatchRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the body must be a JSON object');
  const { operation, objects, transfers, ref, hash_algo: hashAlgo } = body as Record<string, unknown>;
  if (operation !== 'upload' && operation !== 'download') {
    throw invalid(`operation ${JSON.stringify(operation)}: expected "upload" or "download"`);
  }
  if (hashAlgo !== undefined && hashAlgo !== 'sha256') {
    throw new HttpError(409, `hash algorithm ${JSON.stringify(hashAlgo)} is not supported: this server stores sha256 objects only`);
  }
  const offered = transfers ?? ['basic'];
  if (!Array.isArray(offered) || !offered.every((name) => typeof name === 'string')) {
    throw invalid('transfers must be an array of adapter names');
  }
  const supported: readonly string[] = SUPPORTED_TRANSFERS[operation];
  if (!offered.some((name) => supported.includes(name))) {
    throw invalid(
      `none of the transfer adapters ${JSON.stringify(offered).slice(0, 200)} is supported: this server speaks ${supported.map((name) => `"${name}"`).join(' and ')} for ${operation}s`,
    );
  }
  if (!Array.isArray(objects)) throw invalid('objects must be an array');
  if (objects.length > maxObjects) {
    throw new HttpError(
      413,
      `${objects.length} objects in one batch request, over this server's limit of ${maxObjects}: send fewer at a time`,
    );
  }
  const specs = objects.map((object: unknown): LfsObjectSpec => {
    if (typeof object !== 'object' || object === null) return { oid: object, size: undefined };
    const { oid, size } = object as Record<string, unknown>;
    return { oid, size };
  });
  return { operation, objects: specs, transfers: offered.filter((name) => supported.includes(name)), ...refNameOf(ref) };
}

function refNameOf(ref: unknown): { refName?: string } {
  if (ref === undefined || ref === null) return {};
  const name = typeof ref === 'object' ? (ref as Record<string, unknown>).name : undefined;
  if (typeof name !== 'string') throw invalid('ref must be an object with a string name');
  return { refName: name };
}

function invalid(reason: string): HttpError {
  return new HttpError(422, `invalid batch request: ${reason}`);
}
