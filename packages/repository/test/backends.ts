/** The stores every repository test runs against, with caches small enough that tests cross block boundaries and evict. */
import { storesBackends } from '@gitfleet/test-support/stores';
import { BlockCache, DeltaBaseCache, PackIndexCache, type Stores } from '../src/index.js';

export function caches(): Pick<Stores, 'cache' | 'indexes' | 'deltaBases'> {
  return {
    cache: new BlockCache({ blockSize: 4096, maxBytes: 256 * 1024 }),
    indexes: new PackIndexCache({ maxBytes: 1024 * 1024 }),
    deltaBases: new DeltaBaseCache({ maxBytes: 64 * 1024 }),
  };
}

export const backends = storesBackends(caches);
