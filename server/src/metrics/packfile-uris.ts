import { Counter } from 'prom-client';
import { metricsRegistry } from './registry.js';

/** Where a packfile URI sends the client: the object store itself (presigned), or this server's own signed route. */
export type PackfileUriKind = 'store' | 'server';

const offered = new Counter({
  name: 'gitfleet_packfile_uris_total',
  help: 'Packfile URIs given to clones, by where they point: the object store (presigned, no byte through a server) or the server',
  labelNames: ['kind'] as const,
  registers: [metricsRegistry],
});

export function countPackfileUri(kind: PackfileUriKind): void {
  offered.inc({ kind });
}
