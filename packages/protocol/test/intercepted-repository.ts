/**
 * A repository on memory stores reached through an interceptor (a fault injector, a request
 * counter), with small caches of its own, and the push and fetch exchanges run on it in process.
 */
import { Readable } from 'node:stream';
import {
  BlockCache,
  CommitGraphCache,
  DeltaBaseCache,
  PackBitmapsCache,
  PackIndexCache,
  ReencodedEntryCache,
  RepositoryRegistry,
  type PackSetOptions,
  type Repository,
  type Stores,
} from '@gitfleet/repository';
import { InterceptedBlobStore, InterceptedKVStore, MemoryBlobStore, MemoryKVStore, type StoreInterceptor } from '@gitfleet/storage';
import { TEST_PROTOCOL_LIMITS } from '@gitfleet/test-support/protocol-limits';
import { collect, parseResponse, pushRequest, requestStream, type PushCommandLine } from '@gitfleet/test-support/receive-pack-wire';
import { receivePack, uploadPack } from '../src/index.js';
import { parseResponse as parseUploadResponse, request } from './upload-pack-helpers.js';

export interface InterceptedRepository {
  repo: Repository;
  /** The stores behind the interceptor: what is really stored, seen without faults. */
  inner: { blobs: MemoryBlobStore; kv: MemoryKVStore };
  stores: Stores;
}

/** A new repository whose every store request goes through `interceptor`; `registry` as Stores takes it (a test's clock). */
export async function interceptedRepository(interceptor: StoreInterceptor, registry?: PackSetOptions): Promise<InterceptedRepository> {
  const inner = { blobs: new MemoryBlobStore(), kv: new MemoryKVStore() };
  const stores: Stores = {
    blobs: new InterceptedBlobStore(inner.blobs, interceptor),
    kv: new InterceptedKVStore(inner.kv, interceptor),
    ...smallCaches(),
    registry,
  };
  const repo = await new RepositoryRegistry(stores).create('owner', 'repo');
  return { repo, inner, stores };
}

/** Caches of their own, small enough that reads reach the stores often. */
export function smallCaches(): Omit<Stores, 'blobs' | 'kv'> {
  return {
    cache: new BlockCache({ blockSize: 4 * 1024, maxBytes: 64 * 1024 }),
    indexes: new PackIndexCache({ maxBytes: 1024 * 1024 }),
    deltaBases: new DeltaBaseCache({ maxBytes: 64 * 1024 }),
    reencodedEntries: new ReencodedEntryCache({ maxBytes: 64 * 1024 }),
    bitmaps: new PackBitmapsCache(1024 * 1024),
    commitGraphs: new CommitGraphCache(1024 * 1024),
  };
}

export interface PushOutcome {
  /** report-status lines (`unpack ok`, `ok <ref>`, `ng <ref> <reason>`); empty when the response failed. */
  report: string[];
  /** What git would print: side-band 3, or the failure of the response itself. */
  fatal: string;
  /** The error behind a failure, as the server's onError hears it or the response fails with. */
  error?: unknown;
}

/** One receive-pack request of `commands` with `pack`, as git push sends it (side-band, report-status). */
export async function push(repo: Repository, spoolDir: string, commands: PushCommandLine[], pack: Buffer): Promise<PushOutcome> {
  let error: unknown;
  try {
    const response = await receivePack(repo, requestStream(pushRequest(commands, { pack })), {
      limits: TEST_PROTOCOL_LIMITS,
      spoolDir,
      onError: (reported) => (error = reported),
    });
    const { report, fatal } = parseResponse(await collect(response), true);
    return { report, fatal, error };
  } catch (failure) {
    return { report: [], fatal: (failure as Error).message, error: failure };
  }
}

export interface FetchOutcome {
  /** The pack sent, when the response completed without an error. */
  pack?: Buffer;
  /** Why not. */
  error?: unknown;
}

/** A protocol v2 fetch of `wants` with no haves (a clone's), as git clone sends it. */
export async function fetchPack(repo: Repository, wants: readonly string[]): Promise<FetchOutcome> {
  const body = request([
    'command=fetch',
    'agent=git/2.39.2',
    'object-format=sha1',
    'delim',
    'ofs-delta',
    ...wants.map((oid) => `want ${oid}`),
    'done',
    'flush',
  ]);
  try {
    const response = await uploadPack(repo, Readable.from([body]), { version: 2, limits: TEST_PROTOCOL_LIMITS });
    const parsed = parseUploadResponse(await collect(response), { sidebandAll: false });
    if (parsed.error !== '') return { error: new Error(parsed.error) };
    return { pack: parsed.pack };
  } catch (error) {
    return { error };
  }
}
