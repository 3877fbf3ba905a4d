import { Lru, type CacheStats } from '@gitfleet/git-format';

/** A stored delta as it goes to a client that lacks its base: the object whole, header and deflated data. */
export interface ReencodedEntry {
  header: Buffer;
  deflated: Buffer;
}

/** Entries larger than this are not kept: one would push out hundreds of the small ones shallow clones resend. */
const MAX_ENTRY_BYTES = 1024 * 1024;
/** What an entry costs beyond its bytes: its key, the map's entry, two buffer objects. */
const ENTRY_OVERHEAD_BYTES = 200;

/**
 * Deltas re-encoded whole for outgoing packs, keyed by (pack checksum, entry offset), shared by
 * every repository of a process. A shallow clone or fetch sends the newest version of every file,
 * stored mostly as deltas against versions the client will not get: each one is resolved and
 * deflated again, which is most of such a request's work. CI clones the same tips over and over
 * (GitLab's Gitaly caches whole upload-pack responses for that reason); this keeps the part that
 * costs CPU, entry by entry, so it holds for any request that sends the same objects. Pack entries
 * never change, so an entry is valid forever.
 */
export class ReencodedEntryCache {
  private readonly lru: Lru<string, ReencodedEntry>;

  constructor(options: { maxBytes: number }) {
    this.lru = new Lru(options.maxBytes, (entry) => entry.header.length + entry.deflated.length + ENTRY_OVERHEAD_BYTES);
  }

  get(pack: string, offset: number): ReencodedEntry | undefined {
    return this.lru.get(`${pack}:${offset}`);
  }

  set(pack: string, offset: number, entry: ReencodedEntry): void {
    if (entry.deflated.length > MAX_ENTRY_BYTES) return;
    // Held in memory of exactly their size: zlib's output and a small header may be views of
    // larger shared buffers, which a kept view would keep whole (counted as a few bytes, holding kilobytes).
    this.lru.set(`${pack}:${offset}`, { header: exactCopy(entry.header), deflated: exactCopy(entry.deflated) });
  }

  /** Lookups answered from the cache and not, and the bytes it holds (read by monitoring). */
  stats(): CacheStats {
    return this.lru.stats();
  }
}

/** Default for processes that do not size the cache themselves. */
export const sharedReencodedEntryCache = new ReencodedEntryCache({ maxBytes: 64 * 1024 * 1024 });

/** `bytes` alone in memory of its own size: itself when it is already, else a copy. */
function exactCopy(bytes: Buffer): Buffer {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length) return bytes;
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}
