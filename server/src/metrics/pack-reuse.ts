import { Counter } from 'prom-client';
import { observePackOutput } from '@gitfleet/repository';
import { metricsRegistry } from './registry.js';

const packs = new Counter({
  name: 'gitfleet_pack_output_packs_total',
  help: 'Packs streamed whole to clients (clones and fetches that got a pack)',
  registers: [metricsRegistry],
});

const objects = new Counter({
  name: 'gitfleet_git_objects_sent_total',
  help: 'Objects in packs sent to clients, by how each entry was written: copied as stored, or resolved and deflated afresh',
  labelNames: ['entry'] as const,
  registers: [metricsRegistry],
});

const bytes = new Counter({
  name: 'gitfleet_pack_output_bytes_total',
  help: 'Bytes of packs sent to clients: entries copied as stored (pack reuse), entries deflated afresh, and pack headers and trailers',
  labelNames: ['entry'] as const,
  registers: [metricsRegistry],
});

/** Counts every pack this process streams, once it is whole (the pack writer tells; see observePackOutput). */
export function countPackOutput(): void {
  observePackOutput({
    packWritten(stats) {
      packs.inc();
      objects.inc({ entry: 'copied' }, stats.reused);
      objects.inc({ entry: 'recompressed' }, stats.total - stats.reused);
      bytes.inc({ entry: 'copied' }, stats.copiedBytes);
      bytes.inc({ entry: 'recompressed' }, stats.recompressedBytes);
      bytes.inc({ entry: 'framing' }, stats.bytes - stats.copiedBytes - stats.recompressedBytes);
    },
  });
}
