import { join } from 'node:path';
import {
  objectTypeOfCode,
  PackIndex,
  reverseIndexOf,
  writeCommitGraph,
  writeReverseIndex,
  type CommitGraphInput,
  type ObjectId,
  type ObjectType,
} from '@gitfleet/git-format';
import { buildPackBitmaps } from '../bitmaps/build.js';
import { LoopPacer } from '../loop-pacer.js';
import { COMMIT_GRAPH_SIDECAR } from '../commit-graph-cache.js';
import type { ObjectReader } from '../object-reader.js';
import { encodeRepackTips, REPACK_TIPS_SIDECAR } from '../repack-tips-cache.js';
import type { PackWriterStage, NewPack } from './maintain.js';
import { cloneOrder } from './clone-order.js';
import { objectsOfPacks } from './objects-of-packs.js';
import { rewritePack, type PackOrder, type WrittenPack } from './pack-rewrite.js';
import type { ObjectSelection } from './selection.js';

/**
 * The packs maintenance publishes, written from stored entries: a compaction copies every object
 * of the packs it merges; a full repack writes what the clone tips reach in clone order with the
 * sidecars that serve clones from it (`.bitmap` for those tips, `.rev`, `.tips`) and a commit-graph of
 * every reachable commit (negotiation, shallow and history walks), what only the other refs
 * reach into a pack of its own whose deltas may name bases in the clone pack, and the rest into
 * a cruft pack.
 */
export const defaultPackWriter: PackWriterStage = {
  async compact(packs, checksums, path, options) {
    return rewritePack(packs, await objectsOfPacks(packs, checksums), { path, ...options });
  },

  async repack(repo, tips, fromPacks, dir, options) {
    // One pacer for the steps between the writer's own checks of the signal: a stopped run stops within a turn.
    const pacer = new LoopPacer(undefined, options.signal);
    const { reachable, rest, unreachable, commits } = await cloneOrder(repo, tips, fromPacks, pacer);
    const main = await rewritePack(repo.packs, reachable, { path: join(dir, 'repack.pack'), ...options });
    const write = async (selection: ObjectSelection, name: string, deltaBasesIn?: PackOrder) =>
      selection.count > 0 ? await rewritePack(repo.packs, selection, { path: join(dir, name), deltaBasesIn, ...options }) : undefined;
    // Pull requests are mostly deltas against what the branches hold: kept so, not stored whole again.
    const restPack = await write(rest, 'rest.pack', main.order);
    const bothLayers = { clonePack: main.checksum, tips: new Set([...tips.clone, ...tips.rest]) };
    return {
      main: await withSidecars(repo.objects, main, tips.clone, commits, pacer),
      rest: restPack && { ...restPack, sidecars: new Map([[REPACK_TIPS_SIDECAR, encodeRepackTips(bothLayers)]]) },
      cruft: await write(unreachable, 'cruft.pack'),
    };
  },
};

async function withSidecars(
  objects: ObjectReader,
  pack: WrittenPack,
  tips: readonly ObjectId[],
  commits: readonly CommitGraphInput[],
  pacer: LoopPacer,
): Promise<NewPack> {
  const index = PackIndex.parse(pack.idx, pack.size);
  const bitmap = await buildPackBitmaps(
    objects,
    { checksum: pack.checksum, index, oidsInPackOrder: oidsOf(pack.order), typesInPackOrder: typesOf(pack.order) },
    tips,
    { pacer },
  );
  const rev = writeReverseIndex(reverseIndexOf(index), pack.checksum);
  const sidecars = new Map([
    ['rev', rev],
    ['bitmap', bitmap],
    [REPACK_TIPS_SIDECAR, encodeRepackTips({ clonePack: pack.checksum, tips: new Set(tips) })],
  ]);
  const graph = commitGraphOf(commits, pack.checksum);
  if (graph) sidecars.set(COMMIT_GRAPH_SIDECAR, graph);
  return { ...pack, sidecars };
}

/**
 * The commit-graph of the repacked commits, or none when one cannot hold them: git's format keeps
 * 34 bits of commit time (until the year 2514), while a push may carry any date git accepts. A
 * repository without a graph parses its commits, as before; a repack that failed here would fail
 * again after every push.
 */
function commitGraphOf(commits: readonly CommitGraphInput[], checksum: string): Buffer | undefined {
  try {
    return writeCommitGraph(commits);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    process.emitWarning(`pack ${checksum}: no commit-graph written: ${error.message}`, 'GitfleetSidecarWarning');
    return undefined;
  }
}

function oidsOf(order: PackOrder): ObjectId[] {
  const oids = new Array<ObjectId>(order.count);
  const bytes = Buffer.from(order.oids.buffer, order.oids.byteOffset, order.oids.byteLength);
  for (let i = 0; i < order.count; i++) oids[i] = bytes.toString('hex', 20 * i, 20 * i + 20);
  return oids;
}

function typesOf(order: PackOrder): ObjectType[] {
  return Array.from(order.types, (code, i) => {
    const type = objectTypeOfCode(code);
    if (type === undefined) throw new RangeError(`pack order: entry ${i} has type code ${code}, not an object type`);
    return type;
  });
}
