import { FileMode, newTreeEntryPosition, readTreeEntryAt } from '@gitfleet/git-format';
import type { ObjectId } from '@gitfleet/git-format';
import { OidSet } from '../oid-set.js';
import { walkCommits } from './commit-walk.js';
import { MissingObjectError } from '../errors.js';
import type { ObjectReader } from '../object-reader.js';
import { CommitReader } from './commits.js';
import { filterPolicy } from './filter.js';
import { READ_BATCH, readTrees } from './read-trees.js';
import { commonPrefixLength, RecentTrees } from './recent-trees.js';
import type { FilterPolicy } from './filter.js';
import { bitmapsCanEnumerate, enumerateWithBitmaps } from '../bitmaps/enumerate-with-bitmaps.js';
import type { Enumeration, EnumerationOptions, EnumerationRequest } from './enumeration.js';

const PROGRESS_STEP = 1000;

/**
 * Lists what a fetch must send: every object reachable from the wants and not from the
 * haves (git's `pack-objects --revs` with `^have` lines), limited by shallow boundaries
 * and an object filter. Objects asked for by name are always sent, whatever the filter.
 */
export async function enumerateObjects(
  objects: ObjectReader,
  request: EnumerationRequest,
  options: EnumerationOptions = {},
): Promise<Enumeration> {
  if (options.bitmaps && bitmapsCanEnumerate(request)) return enumerateWithBitmaps(objects, options.bitmaps, request, options);
  const reader = new CommitReader(objects, options.cacheKey, options.commitGraph);
  const policy = filterPolicy(request.filter);
  const included = new OidSet();
  const clientHas = new OidSet();
  const progress = new Progress(included, request.onProgress);
  const include = (oid: ObjectId): void => {
    included.add(oid);
    progress.note();
  };

  const wantCommits: ObjectId[] = [];
  const rootTrees: ObjectId[] = [];
  for (const want of request.wants) {
    const peeled = await reader.peel(want);
    if (!peeled) throw new MissingObjectError(want, 'wanted');
    for (const tag of peeled.chain) include(tag);
    if (peeled.type === 'commit') wantCommits.push(peeled.oid);
    else if (peeled.type === 'tree') {
      include(peeled.oid);
      rootTrees.push(peeled.oid);
    } else include(peeled.oid);
  }

  const haveCommits: ObjectId[] = [];
  const haveTrees: ObjectId[] = [];
  for (const have of request.haves) {
    const peeled = await reader.peel(have);
    if (!peeled) continue;
    for (const tag of peeled.chain) clientHas.add(tag);
    if (peeled.type === 'commit') haveCommits.push(peeled.oid);
    else if (peeled.type === 'tree') haveTrees.push(peeled.oid);
    else clientHas.add(peeled.oid);
  }

  const walk = await walkCommits(reader, {
    include: wantCommits,
    exclude: haveCommits,
    shallow: request.shallow,
    onProgress: request.onProgress,
  });

  // Everything in the trees where the client's history meets ours is on the client: not
  // sent again, and usable as a delta base. Explicit trees stay: they were asked for.
  for (const oid of haveCommits) clientHas.add(oid);
  for (const oid of walk.edges) {
    clientHas.add(oid);
    haveTrees.push((await reader.commit(oid, 'edge commit')).tree);
  }
  await markTreesOnClient(objects, haveTrees, clientHas);

  for (const oid of walk.commits) {
    if (policy.includeCommitOrTag('commit')) include(oid);
    const tree = (await reader.commit(oid, 'selected commit')).tree;
    if (!clientHas.has(tree)) rootTrees.push(tree);
  }
  await walkTrees(objects, rootTrees, policy, included, clientHas, progress);

  for (const tag of request.includeTags ?? []) {
    if (included.has(tag) || clientHas.has(tag)) continue;
    const peeled = await reader.peel(tag);
    if (!peeled || !included.has(peeled.oid)) continue;
    for (const link of peeled.chain) include(link);
  }
  request.onProgress?.(included.size);
  return { objects: included, clientHas };
}

/** Reports the number of objects selected now and then (every PROGRESS_STEP). */
class Progress {
  private lastReport = 0;

  constructor(
    private readonly included: OidSet,
    private readonly report: ((count: number) => void) | undefined,
  ) {}

  note(): void {
    if (this.report && this.included.size - this.lastReport >= PROGRESS_STEP) {
      this.lastReport = this.included.size;
      this.report(this.included.size);
    }
  }
}

/** Adds every tree and blob reachable from `roots` to `clientHas`. */
async function markTreesOnClient(objects: ObjectReader, roots: ObjectId[], clientHas: OidSet): Promise<void> {
  let level: ObjectId[] = [];
  for (const oid of roots) if (clientHas.add(oid)) level.push(oid);
  const entry = newTreeEntryPosition();
  while (level.length > 0) {
    const next: ObjectId[] = [];
    await readTrees(objects, level, (data) => {
      for (let pos = 0; pos < data.length;) {
        pos = readTreeEntryAt(data, pos, entry);
        const mode = entry.mode;
        if (mode === FileMode.Submodule) continue;
        const added = clientHas.addBytes(data, entry.nameEnd + 1);
        if (added >= 0 && mode === FileMode.Dir) next.push(clientHas.oidAt(added));
      }
    });
    level = next;
  }
}

/**
 * Breadth-first over all root trees at once, so that each object is met first at its
 * smallest depth (what tree:<depth> filters are defined by).
 *
 * This is the loop a full clone spends its time in: every entry of every tree it reads
 * (over a hundred million on a large history), so entries are visited in place, as binary
 * ids looked up in binary sets, with no string, closure or allocation per entry. And most
 * are not looked up at all: a tree is compared with the last one read under the same name
 * (the previous version of that directory, most of the time), and the entries of their
 * common prefix, all met already with the older tree, are skipped.
 */
async function walkTrees(
  objects: ObjectReader,
  roots: ObjectId[],
  policy: FilterPolicy,
  included: OidSet,
  clientHas: OidSet,
  progress: Progress,
): Promise<void> {
  // Objects met but left out by the filter; with no filter it stays empty.
  const omitted = new OidSet();
  const keep = (oid: ObjectId, kept: boolean): void => {
    if (kept) {
      included.add(oid);
      progress.note();
    } else omitted.add(oid);
  };
  let level: ObjectId[] = [];
  let names: string[] = [];
  const rootsSeen = new OidSet();
  for (const oid of roots) {
    if (!rootsSeen.add(oid)) continue;
    level.push(oid);
    names.push('');
    keep(oid, policy.includeTree(0) || included.has(oid));
  }
  const entry = newTreeEntryPosition();
  for (let depth = 0; level.length > 0; depth++) {
    const treesToRead = policy.descend(depth) ? level : [];
    const next: ObjectId[] = [];
    const nextNames: string[] = [];
    const blobs: ObjectId[] = [];
    const keepTrees = policy.includeTree(depth + 1);
    // Unless blob sizes matter, whether a blob is kept depends on its depth alone.
    const keepBlobs = !policy.needsBlobSize && policy.includeBlob(depth + 1, 0);
    const previous = new RecentTrees();
    const levelNames = names;
    await readTrees(objects, treesToRead, (data, position) => {
      const name = levelNames[position];
      // Every entry of a tree read before is met (kept, omitted or on the client).
      const known = commonPrefixLength(data, previous.get(name));
      for (let pos = 0; pos < data.length;) {
        pos = readTreeEntryAt(data, pos, entry);
        const mode = entry.mode;
        if (mode === FileMode.Submodule || pos <= known) continue;
        const at = entry.nameEnd + 1;
        if (included.hasBytes(data, at) || clientHas.hasBytes(data, at) || (omitted.size > 0 && omitted.hasBytes(data, at))) continue;
        if (mode === FileMode.Dir) {
          next.push(addTo(keepTrees ? included : omitted, data, at));
          nextNames.push(data.toString('latin1', entry.nameStart, entry.nameEnd));
        } else if (policy.needsBlobSize) {
          blobs.push(addTo(omitted, data, at)); // until its size is known; the sized pass below decides
        } else {
          addTo(keepBlobs ? included : omitted, data, at);
        }
        progress.note();
      }
      previous.set(name, data);
    });
    await includeSizedBlobs(objects, blobs, depth + 1, policy, included, progress);
    level = next;
    names = nextNames;
  }
}

/** Adds an id known to be absent from `set`; returns it as hex. */
function addTo(set: OidSet, data: Uint8Array, at: number): ObjectId {
  return set.oidAt(set.addBytes(data, at));
}

async function includeSizedBlobs(
  objects: ObjectReader,
  blobs: ObjectId[],
  depth: number,
  policy: FilterPolicy,
  included: OidSet,
  progress: Progress,
): Promise<void> {
  for (let i = 0; i < blobs.length; i += READ_BATCH) {
    const batch = blobs.slice(i, i + READ_BATCH);
    const headers = await Promise.all(batch.map((oid) => objects.header(oid)));
    for (let j = 0; j < batch.length; j++) {
      const header = headers[j];
      if (!header) throw new MissingObjectError(batch[j], 'blob in a tree');
      if (policy.includeBlob(depth, header.size)) {
        // It stays in `omitted` too: `included` is looked at first.
        included.add(batch[j]);
        progress.note();
      }
    }
  }
}
