/**
 * The commit-graph file (gitformat-commit-graph): "CGPH", version 1, hash version 1 (SHA-1),
 * a chunk table, then the chunks OIDF (fanout), OIDL (sorted ids), CDAT (tree, two parents,
 * topological level and commit time), GDA2/GDO2 (corrected commit date offsets) and EDGE
 * (parents of octopus merges past the first), and the file's SHA-1.
 */
import { createHash } from 'node:crypto';
import { isObjectId, type ObjectId } from '../oid.js';
import { CorruptSidecarError } from './errors.js';

const GRAPH_SIGNATURE = 0x43475048;
const GRAPH_VERSION = 1;
const SHA1_HASH_VERSION = 1;
const HEADER_BYTES = 8;
const TOC_ENTRY_BYTES = 12;
const FANOUT_BYTES = 256 * 4;
const DATA_WIDTH = 36;
const CHUNK = { OIDF: 0x4f494446, OIDL: 0x4f49444c, CDAT: 0x43444154, GDA2: 0x47444132, GDO2: 0x47444f32, EDGE: 0x45444745 } as const;
const PARENT_NONE = 0x70000000;
const EXTRA_EDGES_NEEDED = 0x80000000;
const LAST_EDGE = 0x80000000;
/** In GDA2: the offset lives in GDO2, at the index in the low 31 bits. */
const OFFSET_OVERFLOWS = 0x80000000;
const EDGE_MASK = 0x7fffffff;
/** Topological levels stop growing here (30 bits in CDAT). */
const MAX_TOPOLOGICAL_LEVEL = 0x3fffffff;
/** Larger corrected-date offsets move to GDO2. */
const MAX_GENERATION_OFFSET = 0x7fffffff;
/** CDAT keeps 34 bits of commit time. */
const MAX_COMMIT_TIME = 2 ** 34 - 1;

export interface CommitGraphInput {
  oid: ObjectId;
  tree: ObjectId;
  parents: readonly ObjectId[];
  /** Committer time, seconds since the epoch. */
  commitTime: number;
}

export interface CommitGraphWriteOptions {
  /** Also write corrected commit dates (GDA2/GDO2), as git does by default since 2.34. Default true. */
  generationV2?: boolean;
}

/**
 * Writes a commit-graph of exactly these commits, in any order; every parent must be one of
 * them. Generation numbers are computed here, without recursion.
 */
export function writeCommitGraph(commits: readonly CommitGraphInput[], options: CommitGraphWriteOptions = {}): Buffer {
  const sorted = [...commits].sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
  const count = sorted.length;
  const positions = new Map<ObjectId, number>();
  sorted.forEach((commit, position) => {
    if (!isObjectId(commit.oid) || !isObjectId(commit.tree))
      throw new RangeError(`commit ${commit.oid} has an invalid id or tree ${commit.tree}`);
    if (!(Number.isInteger(commit.commitTime) && commit.commitTime >= 0 && commit.commitTime <= MAX_COMMIT_TIME)) {
      throw new RangeError(`commit ${commit.oid}: commit time ${commit.commitTime} does not fit the 34 bits of a commit-graph`);
    }
    if (positions.has(commit.oid)) throw new RangeError(`commit ${commit.oid} appears twice`);
    positions.set(commit.oid, position);
  });
  const parentPositions = sorted.map((commit) =>
    commit.parents.map((parent) => {
      const position = positions.get(parent);
      if (position === undefined) throw new RangeError(`commit ${commit.oid} has parent ${parent} outside the graph`);
      return position;
    }),
  );
  const { levels, correctedDates } = generations(
    parentPositions,
    sorted.map((commit) => commit.commitTime),
  );

  const fanout = Buffer.alloc(FANOUT_BYTES);
  const counts = new Uint32Array(256);
  for (const commit of sorted) counts[parseInt(commit.oid.slice(0, 2), 16)]++;
  let running = 0;
  for (let b = 0; b < 256; b++) fanout.writeUInt32BE((running += counts[b]), 4 * b);

  const lookup = Buffer.alloc(20 * count);
  const data = Buffer.alloc(DATA_WIDTH * count);
  const edges: number[] = [];
  sorted.forEach((commit, position) => {
    lookup.write(commit.oid, 20 * position, 'hex');
    const at = DATA_WIDTH * position;
    data.write(commit.tree, at, 'hex');
    const parents = parentPositions[position];
    data.writeUInt32BE(parents.length > 0 ? parents[0] : PARENT_NONE, at + 20);
    let second = PARENT_NONE;
    if (parents.length === 2) second = parents[1];
    if (parents.length > 2) {
      second = (EXTRA_EDGES_NEEDED | edges.length) >>> 0;
      for (let k = 1; k < parents.length; k++) edges.push(k === parents.length - 1 ? (parents[k] | LAST_EDGE) >>> 0 : parents[k]);
    }
    data.writeUInt32BE(second, at + 24);
    data.writeUInt32BE(((levels[position] << 2) | (Math.floor(commit.commitTime / 2 ** 32) & 3)) >>> 0, at + 28);
    data.writeUInt32BE(commit.commitTime % 2 ** 32, at + 32);
  });

  const chunks: { id: number; bytes: Buffer }[] = [
    { id: CHUNK.OIDF, bytes: fanout },
    { id: CHUNK.OIDL, bytes: lookup },
    { id: CHUNK.CDAT, bytes: data },
  ];
  if (options.generationV2 ?? true) {
    const offsets = Buffer.alloc(4 * count);
    const overflows: number[] = [];
    sorted.forEach((commit, position) => {
      const offset = correctedDates[position] - commit.commitTime;
      if (offset > MAX_GENERATION_OFFSET) {
        offsets.writeUInt32BE((OFFSET_OVERFLOWS | overflows.length) >>> 0, 4 * position);
        overflows.push(offset);
      } else {
        offsets.writeUInt32BE(offset, 4 * position);
      }
    });
    chunks.push({ id: CHUNK.GDA2, bytes: offsets });
    if (overflows.length > 0) {
      const overflow = Buffer.alloc(8 * overflows.length);
      overflows.forEach((offset, i) => overflow.writeBigUInt64BE(BigInt(offset), 8 * i));
      chunks.push({ id: CHUNK.GDO2, bytes: overflow });
    }
  }
  if (edges.length > 0) {
    const edgeBytes = Buffer.alloc(4 * edges.length);
    edges.forEach((edge, i) => edgeBytes.writeUInt32BE(edge, 4 * i));
    chunks.push({ id: CHUNK.EDGE, bytes: edgeBytes });
  }

  const header = Buffer.alloc(HEADER_BYTES + TOC_ENTRY_BYTES * (chunks.length + 1));
  header.writeUInt32BE(GRAPH_SIGNATURE, 0);
  header.writeUInt8(GRAPH_VERSION, 4);
  header.writeUInt8(SHA1_HASH_VERSION, 5);
  header.writeUInt8(chunks.length, 6);
  let offset = header.length;
  chunks.forEach((chunk, i) => {
    header.writeUInt32BE(chunk.id, HEADER_BYTES + TOC_ENTRY_BYTES * i);
    header.writeBigUInt64BE(BigInt(offset), HEADER_BYTES + TOC_ENTRY_BYTES * i + 4);
    offset += chunk.bytes.length;
  });
  header.writeBigUInt64BE(BigInt(offset), HEADER_BYTES + TOC_ENTRY_BYTES * chunks.length + 4);
  const body = Buffer.concat([header, ...chunks.map((chunk) => chunk.bytes)]);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

/**
 * Topological levels and corrected commit dates, as git's compute_topological_levels and
 * compute_generation_numbers define them, by an explicit-stack depth-first walk: histories
 * have chains far deeper than the call stack.
 */
function generations(parents: readonly number[][], commitTimes: readonly number[]): { levels: Uint32Array; correctedDates: Float64Array } {
  const count = parents.length;
  const levels = new Uint32Array(count);
  const correctedDates = new Float64Array(count);
  const state = new Uint8Array(count); // 0 unvisited, 1 on the stack, 2 done
  const stack: number[] = [];
  for (let start = 0; start < count; start++) {
    if (state[start] === 2) continue;
    stack.push(start);
    state[start] = 1;
    while (stack.length > 0) {
      const current = stack[stack.length - 1];
      let pending = false;
      let maxLevel = 0;
      let maxCorrected = 0;
      for (const parent of parents[current]) {
        if (state[parent] === 1) throw new RangeError(`commit graph has a cycle through position ${parent}`);
        if (state[parent] === 0) {
          state[parent] = 1;
          stack.push(parent);
          pending = true;
          break;
        }
        maxLevel = Math.max(maxLevel, levels[parent]);
        maxCorrected = Math.max(maxCorrected, correctedDates[parent]);
      }
      if (pending) continue;
      stack.pop();
      state[current] = 2;
      levels[current] = Math.min(maxLevel, MAX_TOPOLOGICAL_LEVEL - 1) + 1;
      const time = commitTimes[current];
      // git's rule, including its treatment of a zero date as "unknown".
      correctedDates[current] = time !== 0 && time > maxCorrected ? time : maxCorrected + 1;
    }
  }
  return { levels, correctedDates };
}

export interface CommitGraphEntry {
  oid: ObjectId;
  tree: ObjectId;
  parents: ObjectId[];
  /** Positions of the parents in this graph, in parent order. */
  parentPositions: number[];
  /** Topological level (generation number v1). */
  generation: number;
  /** Corrected commit date (generation number v2), when the graph has GDA2. */
  correctedCommitDate: number | undefined;
  commitTime: number;
}

interface ChunkBounds {
  start: number;
  end: number;
}

/**
 * A parsed commit-graph. parse checks the header, chunk table, chunk sizes, fanout, id
 * order and checksum; lookups find an id through the fanout and a binary search, and check
 * every parent reference they follow.
 */
export class CommitGraph {
  readonly commitCount: number;
  private readonly file: Buffer;
  private readonly fanoutAt: number;
  private readonly lookupAt: number;
  private readonly dataAt: number;
  private readonly generationAt: number | undefined;
  private readonly overflow: ChunkBounds | undefined;
  private readonly edges: ChunkBounds | undefined;

  private constructor(file: Buffer) {
    this.file = file;
    const fail = (detail: string): CorruptSidecarError => new CorruptSidecarError('commit-graph', detail);
    if (file.length < HEADER_BYTES + TOC_ENTRY_BYTES + 20) throw fail(`${file.length} bytes is too short`);
    if (file.readUInt32BE(0) !== GRAPH_SIGNATURE) throw fail('bad signature at offset 0');
    if (file[4] !== GRAPH_VERSION) throw fail(`unsupported version ${file[4]}`);
    if (file[5] !== SHA1_HASH_VERSION) throw fail(`unsupported hash version ${file[5]}`);
    if (file[7] !== 0) throw fail(`${file[7]} base graphs: split commit-graph chains are not supported`);
    const chunkCount = file[6];
    const trailerAt = file.length - 20;
    const tocEnd = HEADER_BYTES + TOC_ENTRY_BYTES * (chunkCount + 1);
    if (tocEnd > trailerAt) throw fail(`a table of ${chunkCount} chunks does not fit ${file.length} bytes`);
    if (!createHash('sha1').update(file.subarray(0, trailerAt)).digest().equals(file.subarray(trailerAt))) throw fail('checksum mismatch');

    const chunks = new Map<number, ChunkBounds>();
    for (let i = 0; i < chunkCount; i++) {
      const at = HEADER_BYTES + TOC_ENTRY_BYTES * i;
      const id = file.readUInt32BE(at);
      const start = Number(file.readBigUInt64BE(at + 4));
      const end = Number(file.readBigUInt64BE(at + 16));
      if (id === 0) throw fail(`chunk table ends early, at entry ${i} of ${chunkCount}`);
      if (start < tocEnd || end < start || end > trailerAt)
        throw fail(`chunk ${chunkName(id)} spans bytes ${start}-${end} of ${trailerAt}`);
      if (chunks.has(id)) throw fail(`chunk ${chunkName(id)} appears twice`);
      chunks.set(id, { start, end });
    }
    const terminator = HEADER_BYTES + TOC_ENTRY_BYTES * chunkCount;
    if (file.readUInt32BE(terminator) !== 0) throw fail('chunk table has no terminating entry');

    const required = (id: number): ChunkBounds => {
      const chunk = chunks.get(id);
      if (chunk === undefined) throw fail(`missing chunk ${chunkName(id)}`);
      return chunk;
    };
    const fanout = required(CHUNK.OIDF);
    if (fanout.end - fanout.start !== FANOUT_BYTES) throw fail(`OIDF chunk of ${fanout.end - fanout.start} bytes`);
    let previous = 0;
    for (let b = 0; b < 256; b++) {
      const value = file.readUInt32BE(fanout.start + 4 * b);
      if (value < previous) throw fail(`fanout decreases at byte ${b.toString(16)}`);
      previous = value;
    }
    const count = previous;
    this.fanoutAt = fanout.start;
    this.commitCount = count;
    const sized = (id: number, width: number): ChunkBounds => {
      const chunk = required(id);
      if (chunk.end - chunk.start !== width * count)
        throw fail(`${chunkName(id)} chunk of ${chunk.end - chunk.start} bytes for ${count} commits`);
      return chunk;
    };
    this.lookupAt = sized(CHUNK.OIDL, 20).start;
    this.dataAt = sized(CHUNK.CDAT, DATA_WIDTH).start;
    this.generationAt = chunks.has(CHUNK.GDA2) ? sized(CHUNK.GDA2, 4).start : undefined;
    this.overflow = chunks.get(CHUNK.GDO2);
    this.edges = chunks.get(CHUNK.EDGE);
    if (this.overflow && (this.overflow.end - this.overflow.start) % 8 !== 0)
      throw fail('GDO2 chunk is not a whole number of 8-byte entries');
    if (this.edges && (this.edges.end - this.edges.start) % 4 !== 0) throw fail('EDGE chunk is not a whole number of 4-byte entries');
    for (let position = 1; position < count; position++) {
      const at = this.lookupAt + 20 * position;
      // Compares the id at `position` with the one before it: it must sort strictly after.
      if (file.compare(file, at - 20, at, at, at + 20) <= 0) throw fail(`commit ids out of order at position ${position}`);
    }
    for (let b = 0; b < 256; b++) {
      const end = file.readUInt32BE(fanout.start + 4 * b);
      if (end > 0 && end <= count && file[this.lookupAt + 20 * (end - 1)] > b)
        throw fail(`fanout entry ${b.toString(16)} disagrees with the ids`);
      if (end < count && file[this.lookupAt + 20 * end] <= b) throw fail(`fanout entry ${b.toString(16)} disagrees with the ids`);
    }
  }

  static parse(bytes: Uint8Array): CommitGraph {
    return new CommitGraph(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /** Position of `oid` in the graph (its rank in id order), or undefined. */
  positionOf(oid: ObjectId): number | undefined {
    if (!isObjectId(oid)) return undefined;
    const key = Buffer.from(oid, 'hex');
    let lo = key[0] === 0 ? 0 : this.file.readUInt32BE(this.fanoutAt + 4 * (key[0] - 1));
    let hi = this.file.readUInt32BE(this.fanoutAt + 4 * key[0]);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.lookupAt + 20 * mid;
      const cmp = this.file.compare(key, 0, 20, at, at + 20);
      if (cmp === 0) return mid;
      // Positive: the id at `mid` sorts after `key`.
      if (cmp > 0) hi = mid;
      else lo = mid + 1;
    }
    return undefined;
  }

  oidAt(position: number): ObjectId {
    if (!(Number.isInteger(position) && position >= 0 && position < this.commitCount)) {
      throw new RangeError(`graph position ${position} outside ${this.commitCount} commits`);
    }
    return this.file.toString('hex', this.lookupAt + 20 * position, this.lookupAt + 20 * position + 20);
  }

  /** What the graph records for `oid`, or undefined when it is not in the graph. */
  lookup(oid: ObjectId): CommitGraphEntry | undefined {
    const position = this.positionOf(oid);
    return position === undefined ? undefined : this.entryAt(position);
  }

  entryAt(position: number): CommitGraphEntry {
    const oid = this.oidAt(position);
    const at = this.dataAt + DATA_WIDTH * position;
    const file = this.file;
    const parentPositions = this.parentPositions(position, file.readUInt32BE(at + 20), file.readUInt32BE(at + 24));
    const packed = file.readUInt32BE(at + 28);
    const commitTime = (packed & 3) * 2 ** 32 + file.readUInt32BE(at + 32);
    return {
      oid,
      tree: file.toString('hex', at, at + 20),
      parents: parentPositions.map((parent) => this.oidAt(parent)),
      parentPositions,
      generation: packed >>> 2,
      correctedCommitDate: this.correctedCommitDate(position, commitTime),
      commitTime,
    };
  }

  private parentPositions(position: number, first: number, second: number): number[] {
    const parents: number[] = [];
    const checked = (parent: number): number => {
      if (parent >= this.commitCount) {
        throw new CorruptSidecarError(
          'commit-graph',
          `commit at position ${position} names parent position ${parent} of ${this.commitCount}`,
        );
      }
      return parent;
    };
    if (first === PARENT_NONE) {
      if (second !== PARENT_NONE)
        throw new CorruptSidecarError('commit-graph', `commit at position ${position} has a second parent but no first`);
      return parents;
    }
    parents.push(checked(first));
    if (second === PARENT_NONE) return parents;
    if ((second & EXTRA_EDGES_NEEDED) === 0) {
      parents.push(checked(second));
      return parents;
    }
    const edges = this.edges;
    if (edges === undefined) throw new CorruptSidecarError('commit-graph', `commit at position ${position} refers to a missing EDGE chunk`);
    for (let at = edges.start + 4 * (second & EDGE_MASK); ; at += 4) {
      if (at + 4 > edges.end)
        throw new CorruptSidecarError('commit-graph', `parents of the commit at position ${position} run past the EDGE chunk`);
      const edge = this.file.readUInt32BE(at);
      parents.push(checked(edge & EDGE_MASK));
      if (edge & LAST_EDGE) return parents;
    }
  }

  private correctedCommitDate(position: number, commitTime: number): number | undefined {
    if (this.generationAt === undefined) return undefined;
    const offset = this.file.readUInt32BE(this.generationAt + 4 * position);
    if ((offset & OFFSET_OVERFLOWS) === 0) return commitTime + offset;
    const overflowIndex = offset & EDGE_MASK;
    const at = (this.overflow?.start ?? 0) + 8 * overflowIndex;
    if (this.overflow === undefined || at + 8 > this.overflow.end) {
      throw new CorruptSidecarError(
        'commit-graph',
        `commit at position ${position} refers to GDO2 entry ${overflowIndex} that does not exist`,
      );
    }
    return commitTime + Number(this.file.readBigUInt64BE(at));
  }
}

function chunkName(id: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(id >>> 0);
  return /^[A-Z0-9]{4}$/.test(bytes.toString('latin1')) ? bytes.toString('latin1') : `0x${(id >>> 0).toString(16)}`;
}
