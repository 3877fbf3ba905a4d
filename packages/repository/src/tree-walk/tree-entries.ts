import { newTreeEntryPosition, readTreeEntryAt, type ObjectId } from '@gitfleet/git-format';
import type { Repository } from '../repository.js';
import { LoopPacer } from './loop-pacer.js';
import { openTypedObject } from './typed-object.js';

export const TREE_MODE = 0o40000;
export const GITLINK_MODE = 0o160000;

export interface StreamedTreeEntry {
  /** As a number, e.g. 0o100644. */
  mode: number;
  name: string;
  oid: ObjectId;
}

/** Entries handed over at once: a batch costs one turn of the consumer's await, not one per entry. */
const ENTRIES_PER_BATCH = 512;

/**
 * A tree's entries in stored order, in batches, parsed as its bytes arrive: a tree may be as
 * large as an object may be (millions of entries), so a reader that wants the first entries
 * inflates only those, and a reader that scans them all gives the event loop a turn every few
 * thousand (counted over every tree of a walk when the walk shares its `pacer`).
 */
export async function* treeEntryBatches(repo: Repository, oid: ObjectId, context: string, pacer = new LoopPacer()): AsyncGenerator<StreamedTreeEntry[]> {
  const opened = await openTypedObject(repo, oid, 'tree', context);
  const position = newTreeEntryPosition();
  let pending: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of opened.stream as AsyncIterable<Buffer>) {
      const bytes = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let pos = 0;
      let batch: StreamedTreeEntry[] = [];
      for (;;) {
        const nul = bytes.indexOf(0, pos);
        if (nul < 0 || nul + 21 > bytes.length) break;
        const next = readTreeEntryAt(bytes, pos, position);
        batch.push({ mode: position.mode, name: bytes.toString('utf8', position.nameStart, position.nameEnd), oid: bytes.toString('hex', position.nameEnd + 1, next) });
        pos = next;
        if (batch.length === ENTRIES_PER_BATCH) {
          yield batch;
          await pacer.step(batch.length);
          batch = [];
        }
      }
      pending = bytes.subarray(pos);
      if (batch.length > 0) {
        yield batch;
        await pacer.step(batch.length);
      }
    }
  } finally {
    opened.stream.destroy();
  }
  if (pending.length > 0) throw new Error(`${context}: tree ${oid} ends inside an entry`);
}

/** treeEntryBatches, one entry at a time. */
export async function* treeEntries(repo: Repository, oid: ObjectId, context: string, pacer = new LoopPacer()): AsyncGenerator<StreamedTreeEntry> {
  for await (const batch of treeEntryBatches(repo, oid, context, pacer)) yield* batch;
}
