import type { BlobStore } from './blob-store.js';

/**
 * What a store that clients can read from directly offers besides the BlobStore interface: a
 * URL that lets anyone holding it download one blob, with no credential of their own, until it
 * expires (an S3 presigned GetObject). Optional: a store on the server's own disk has none, and
 * callers then serve the bytes themselves.
 */
export interface DirectReadUrls {
  /**
   * A URL to GET `key` from, valid for `expiresInSeconds` (the download must start by then); undefined
   * when the blob is absent, or held only where no such URL can be made.
   */
  directReadUrl(key: string, options: { expiresInSeconds: number }): Promise<string | undefined>;
}

/** Whether `store` can hand out direct read URLs. */
export function hasDirectReadUrls(store: BlobStore): store is BlobStore & DirectReadUrls {
  return typeof (store as Partial<DirectReadUrls>).directReadUrl === 'function';
}
