import { promisify } from 'node:util';
import { constants as zlibConstants, inflate, inflateSync } from 'node:zlib';
import {
  GIT_MAX_DELTA_DEPTH,
  applyDelta,
  parseEntryHeader,
  type GitObject,
  type ObjectId,
  type ObjectType,
  type PackEntryHeader,
} from '@gitfleet/git-format';
import { sharedDeltaBaseCache, type DeltaBaseCache } from './delta-base-cache.js';
import { CorruptPackError, MissingObjectError } from './errors.js';
import { sharedEntryTypeMemo } from './entry-type-memo.js';
import type { PackAccess, PackLocation } from './pack-access.js';

/** Objects by id. Walks take this interface, so that tests may pass a smaller fake. */
export interface ObjectReader {
  has(oid: ObjectId): Promise<boolean>;
  /**
   * The object, inflated and delta-resolved; undefined when absent. Its id is not re-hashed on
   * read (as in git, only fsck does): packs are verified when they are indexed on push.
   * The returned data may be shared with a cache: treat it as read-only.
   */
  read(oid: ObjectId): Promise<GitObject | undefined>;
  /** Type and size, resolving only delta headers where possible. */
  header(oid: ObjectId): Promise<{ type: ObjectType; size: number } | undefined>;
  /** Type alone: delta chains are walked by their entry headers, nothing inflated. */
  type(oid: ObjectId): Promise<ObjectType | undefined>;
}

/** Above this, inflate off the event loop. */
const ASYNC_INFLATE_BYTES = 64 * 1024;
/** Deflated bytes read to learn a delta's target size; a longer first zlib block means a full inflate. */
const DELTA_HEADER_PROBE = 256;
/** No pack git writes, nor one receive-pack accepts, has a longer chain; a longer one is a cycle of ref-deltas. */
const MAX_DELTA_CHAIN = GIT_MAX_DELTA_DEPTH;

const inflateAsync = promisify(inflate);

type DeltaHeader = Exclude<PackEntryHeader, { kind: 'object' }>;

/** One read's walk down a chain: the entries it resolves, and the read it waits for, if any. */
interface Resolution {
  links: Link[];
  waitingFor?: Resolution;
}

/** An entry a read is resolving; `settle` hands the outcome to the reads waiting for it (a second call does nothing). */
interface Link {
  key: string;
  settle: (outcome: { object: GitObject } | { error: unknown }) => void;
}

/** Reads objects out of a repository's packs, resolving delta chains through a cache of their bases. */
export class PackObjectReader implements ObjectReader {
  constructor(
    private readonly packs: PackAccess,
    private readonly deltaBases: DeltaBaseCache = sharedDeltaBaseCache,
  ) {}

  /** Entries some read of this reader is resolving right now, by entryKey. */
  private readonly resolving = new Map<string, { result: Promise<GitObject>; by: Resolution }>();
  private readonly knownTypes = sharedEntryTypeMemo;

  async has(oid: ObjectId): Promise<boolean> {
    return (await this.packs.lookup(oid)) !== undefined;
  }

  async read(oid: ObjectId): Promise<GitObject | undefined> {
    const found = this.packs.lookupLoaded(oid) ?? (await this.packs.lookup(oid));
    return found && this.resolve(found, oid);
  }

  async header(oid: ObjectId): Promise<{ type: ObjectType; size: number } | undefined> {
    const found = await this.packs.lookup(oid);
    if (!found) return undefined;
    let size: number | undefined;
    let current = found;
    for (let depth = 0; ; depth++) {
      if (depth > MAX_DELTA_CHAIN) throw chainTooLong(oid, current);
      const cached = this.deltaBases.get(current.pack.checksum, current.offset);
      if (cached) return { type: cached.type, size: size ?? cached.data.length };
      const header = await this.packs.entryHeader(current);
      if (header.kind === 'object') return { type: header.type, size: size ?? header.size };
      size ??= await this.deltaTargetSize(current, header);
      current = await this.deltaBase(current, header, oid);
    }
  }

  async type(oid: ObjectId): Promise<ObjectType | undefined> {
    const found = await this.packs.lookup(oid);
    if (!found) return undefined;
    const walked: PackLocation[] = [];
    let type: ObjectType | undefined;
    for (let current = found; ;) {
      type = this.knownTypes.get(current.index, current.offset) ?? this.deltaBases.get(current.pack.checksum, current.offset)?.type;
      if (type) break;
      if (walked.length > MAX_DELTA_CHAIN) throw chainTooLong(oid, current);
      walked.push(current);
      const header = await this.packs.entryHeader(current);
      if (header.kind === 'object') {
        type = header.type;
        break;
      }
      current = await this.deltaBase(current, header, oid);
    }
    for (const at of walked) this.knownTypes.set(at.index, at.offset, type);
    return type;
  }

  /**
   * Inflates the entry and applies its delta chain, base first, without recursion.
   *
   * What bounds a read: receive-pack is the only writer of packs, and it indexes each one
   * within the push's limits (protocol's PackLimits): chains at most maxDeltaDepth deep (never
   * over GIT_MAX_DELTA_DEPTH, the deepest git writes) and everything the pack expands to within
   * its inflated-bytes budget, every link of a chain being an object of that same pack. So a
   * read applies at most MAX_DELTA_CHAIN deltas and produces no more than the push that stored
   * them was allowed to. Memory stays at one base, one delta and one result whatever the depth:
   * the chain is walked by entry headers, and each delta is inflated only when it is applied.
   *
   * Walks read many objects at once, and the versions of one file or tree are links of one
   * chain: a read that meets an entry another read is resolving waits for that result rather
   * than resolving the rest of the chain again, so each delta is applied once.
   */
  private async resolve(start: PackLocation, oid: ObjectId): Promise<GitObject> {
    const resolution: Resolution = { links: [] };
    try {
      return await this.resolveChain(start, oid, resolution);
    } catch (error) {
      for (const link of resolution.links) this.settle(link, resolution, { error });
      throw error;
    }
  }

  private async resolveChain(start: PackLocation, oid: ObjectId, resolution: Resolution): Promise<GitObject> {
    const chain: Array<{ at: PackLocation; header: DeltaHeader; end: number; link: Link }> = [];
    let current = start;
    let base: GitObject | undefined;
    for (;;) {
      if (chain.length > MAX_DELTA_CHAIN) throw chainTooLong(oid, current);
      const cached = this.deltaBases.get(current.pack.checksum, current.offset);
      if (cached) {
        base = cached;
        break;
      }
      const key = entryKey(current);
      const inFlight = this.resolving.get(key);
      if (inFlight) {
        // Waiting on a read that waits, however indirectly, on this one would never end: only
        // a cycle of ref-deltas between packs makes one.
        if (waitsFor(inFlight.by, resolution)) throw chainTooLong(oid, current);
        resolution.waitingFor = inFlight.by;
        base = await inFlight.result.catch(() => undefined);
        resolution.waitingFor = undefined;
        // Its read failed: this one reads the entry itself, and fails with its own error if it must.
        if (base) break;
        continue;
      }
      const link = this.claim(key, resolution);
      const { pack, index, offset } = current;
      const end = index.entryEnd(offset);
      const raw = await this.packs.read(pack.checksum, offset, end);
      const header = parseEntryHeader(raw, 0, offset);
      if (header.kind === 'object') {
        base = { type: header.type, data: await inflateEntry(raw.subarray(header.headerLength), header.size, current) };
        if (chain.length > 0) this.deltaBases.set(pack.checksum, offset, base);
        this.settle(link, resolution, { object: base });
        break;
      }
      chain.push({ at: current, header, end, link });
      current = await this.deltaBase(current, header, oid);
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const { at, header, end, link } = chain[i];
      const delta = await inflateEntry(await this.packs.read(at.pack.checksum, at.offset + header.headerLength, end), header.size, at);
      let data: Buffer;
      try {
        data = applyDelta(base.data, delta);
      } catch (error) {
        throw new CorruptPackError(at.pack.checksum, `object ${oid}: delta at ${describe(at)}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      base = { type: base.type, data };
      // Every link but the last was some delta's base. The object asked for is kept too: in
      // a delta chain, git makes older versions deltas of newer ones, and walks go from new
      // to old, so the object just read is the base of the next one likely to be asked for.
      this.deltaBases.set(at.pack.checksum, at.offset, base);
      this.settle(link, resolution, { object: base });
    }
    return base;
  }

  /** Marks the entry at `key` as being resolved by `resolution`, for other reads to wait on. */
  private claim(key: string, resolution: Resolution): Link {
    let settle!: Link['settle'];
    const result = new Promise<GitObject>((resolve, reject) => {
      settle = (outcome) => ('object' in outcome ? resolve(outcome.object) : reject(outcome.error));
    });
    // A failure reaches the reads that wait; none may be waiting.
    result.catch(() => undefined);
    const link: Link = { key, settle };
    this.resolving.set(key, { result, by: resolution });
    resolution.links.push(link);
    return link;
  }

  /** Settles the entry's result and stops offering it to other reads; an entry settled already keeps its first outcome. */
  private settle(link: Link, resolution: Resolution, outcome: { object: GitObject } | { error: unknown }): void {
    if (this.resolving.get(link.key)?.by === resolution) this.resolving.delete(link.key);
    link.settle(outcome);
  }

  private async deltaBase(current: PackLocation, header: DeltaHeader, oid: ObjectId): Promise<PackLocation> {
    if (header.kind === 'ofs-delta') return { ...current, offset: header.baseOffset };
    const base = await this.packs.lookup(header.baseOid);
    if (!base) throw new MissingObjectError(header.baseOid, `delta base of object ${oid} at ${describe(current)}`);
    return base;
  }

  /** A delta's target size from the first bytes of its inflated data; a full inflate only if they fall short. */
  private async deltaTargetSize(entry: PackLocation, header: DeltaHeader): Promise<number> {
    const pack = entry.pack.checksum;
    const end = entry.index.entryEnd(entry.offset);
    const dataStart = entry.offset + header.headerLength;
    const probe = await this.packs.read(pack, dataStart, Math.min(end, dataStart + DELTA_HEADER_PROBE));
    let sizes: { targetSize: number } | undefined;
    try {
      sizes = readDeltaSizes(inflateSync(probe, { finishFlush: zlibConstants.Z_SYNC_FLUSH }));
    } catch {
      // A probe cut inside a zlib block may not inflate at all; the full entry will tell.
    }
    if (!sizes) {
      const full = await inflateEntry(await this.packs.read(pack, dataStart, end), header.size, entry);
      sizes = readDeltaSizes(full);
      if (!sizes) throw new CorruptPackError(pack, `${describe(entry)}: delta too short for its header`);
    }
    return sizes.targetSize;
  }
}

function entryKey(at: PackLocation): string {
  return `${at.pack.checksum}:${at.offset}`;
}

/** Whether `reader` waits, directly or through other reads, for `target`. */
function waitsFor(reader: Resolution | undefined, target: Resolution): boolean {
  for (let current = reader; current !== undefined; current = current.waitingFor) if (current === target) return true;
  return false;
}

function describe(at: PackLocation): string {
  return `pack ${at.pack.checksum} offset ${at.offset}`;
}

function chainTooLong(oid: ObjectId, at: PackLocation): CorruptPackError {
  return new CorruptPackError(
    at.pack.checksum,
    `object ${oid}: delta chain longer than ${MAX_DELTA_CHAIN}, deeper than git writes (a cycle of ref-deltas?)`,
  );
}

/** The two sizes that open a delta (gitformat-pack), or undefined when `bytes` ends first. */
function readDeltaSizes(bytes: Uint8Array): { baseSize: number; targetSize: number } | undefined {
  let at = 0;
  const varint = (): number | undefined => {
    let value = 0;
    let multiplier = 1;
    for (;;) {
      if (at >= bytes.length) return undefined;
      const byte = bytes[at++];
      value += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if ((byte & 0x80) === 0) return value;
    }
  };
  const baseSize = varint();
  const targetSize = varint();
  return baseSize === undefined || targetSize === undefined ? undefined : { baseSize, targetSize };
}

async function inflateEntry(deflated: Buffer, size: number, at: PackLocation): Promise<Buffer> {
  // The declared size bounds the output: a corrupt stream cannot balloon in memory.
  const options = { maxOutputLength: Math.max(size, 1) };
  let data: Buffer;
  try {
    data = deflated.length > ASYNC_INFLATE_BYTES ? await inflateAsync(deflated, options) : inflateSync(deflated, options);
  } catch (error) {
    throw new CorruptPackError(at.pack.checksum, `${describe(at)}: entry data does not inflate: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (data.length !== size)
    throw new CorruptPackError(at.pack.checksum, `${describe(at)}: entry inflates to ${data.length} bytes, header says ${size}`);
  return data;
}
