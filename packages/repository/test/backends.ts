/**
 * The stores every repository test runs against, with caches small enough that tests cross block
 * boundaries and evict, and of their own: tests reuse repository ids, which the process-wide
 * caches key by.
 */
import { storesBackends } from '@gitfleet/test-support/stores';
import { BlockCache, DeltaBaseCache, PackIndexCache, RefListingCache, type Stores } from '../src/index.js';

export function caches(): Pick<Stores, 'cache' | 'indexes' | 'deltaBases' | 'refListings'> {
  return {
    cache: new BlockCache({ blockSize: 4096, maxBytes: 256 * 1024 }),
    indexes: new PackIndexCache({ maxBytes: 1024 * 1024 }),
    deltaBases: new DeltaBaseCache({ maxBytes: 64 * 1024 }),
    refListings: new RefListingCache(1024 * 1024),
  };
}

export const backends = storesBackends(caches);
