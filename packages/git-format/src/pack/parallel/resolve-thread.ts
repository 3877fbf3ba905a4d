import { open } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { DeltaArena, type SharedDeltaArena } from '../delta-arena.js';
import { DeltaForest, type DeltaForestParts } from '../delta-forest.js';
import { EntryTable, type EntryTableParts } from '../entry-table.js';
import { BlockReader } from '../file-readers.js';
import { SpooledPackFile } from '../pack-file.js';
import { ExpansionBudget, type SharedBudget } from '../limits.js';
import { TreeResolver } from '../tree-resolver.js';
import type { CreateObjectSink, ObjectSink, ObjectSinkSpec } from './object-sink.js';
import { loadModule } from './thread-modules.js';
import { TreeQueue, type TreeFailure, type TreeQueueParts } from './tree-queue.js';
import { lowerThisThreadPriority } from '../../thread-priority.js';

// CPU-heavy: the event loops of the process keep their cores first.
lowerThisThreadPriority();

/** What a helper thread of pass two is started with. */
export interface ResolveThreadData {
  packPath: string;
  /** Where the pack's entries end (its trailer). */
  dataEnd: number;
  table: EntryTableParts;
  forest: DeltaForestParts;
  deltas: SharedDeltaArena;
  budget: SharedBudget;
  queue: TreeQueueParts;
  deltaBaseCacheBytes?: number;
  sink?: ObjectSinkSpec;
}

/** What it answers when the queue is empty or a tree failed. */
export interface ResolveThreadResult {
  failure?: TreeFailure;
  sinkResult?: unknown;
}

/**
 * A helper thread of pass two: takes trees from the shared queue and resolves them into the
 * shared table, reading the pack through its own file handle and cache, handing each object to
 * its own sink. It never touches the repository: trees rooted at a thin pack's missing bases are
 * resolved by the coordinating thread, which fetches those.
 */
async function main(data: ResolveThreadData): Promise<ResolveThreadResult> {
  const sink = data.sink === undefined ? undefined : await loadSink(data.sink);
  const table = EntryTable.attach(data.table);
  const queue = TreeQueue.attach(data.queue);
  const file = await open(data.packPath, 'r');
  try {
    const resolver = new TreeResolver(
      new BlockReader(new SpooledPackFile(file)),
      table,
      new DeltaForest(table, data.forest),
      DeltaArena.attach(data.deltas),
      () => data.dataEnd,
      {
        budget: ExpansionBudget.attach(data.budget),
        deltaBaseCacheBytes: data.deltaBaseCacheBytes,
        onObject: sink && ((oid, type, object) => sink.onObject(oid, type, object)),
        onResolved: () => queue.countResolved(),
        abandoned: queue.abandoned,
      },
    );
    const failure = await queue.drain(resolver);
    return { failure, sinkResult: failure === undefined ? sink?.finish() : undefined };
  } finally {
    await file.close();
  }
}

async function loadSink(spec: ObjectSinkSpec): Promise<ObjectSink> {
  const module = (await loadModule(spec.module)) as { createObjectSink?: CreateObjectSink };
  if (typeof module.createObjectSink !== 'function') throw new Error(`object sink module ${spec.module} exports no createObjectSink`);
  return module.createObjectSink(spec.init);
}

// A rejection ends the thread with an 'error' event, which the coordinator turns into the push's failure.
void main(workerData as ResolveThreadData).then((result) => parentPort!.postMessage(result));
