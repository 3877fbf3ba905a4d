import { newTreeEntryPosition, readTreeEntryAt, type ObjectId } from '@gitfleet/git-format';
import type { Repository } from '../repository.js';
import { LoopPacer } from '../loop-pacer.js';
import { openTypedObject } from './typed-object.js';

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
 * milliseconds (over every tree of a walk when the walk shares its `pacer`).
 */
export async function* treeEntryBatches(
  repo: Repository,
  oid: ObjectId,
  context: string,
  pacer = new LoopPacer(),
): AsyncGenerator<StreamedTreeEntry[]> {
  await pacer.step();
  const opened = await openTypedObject(repo, oid, 'tree', context);
  const position = newTreeEntryPosition();
  // Bytes of an entry not complete yet, kept as they came: an entry whose name spans many
  // chunks is joined once, not once per chunk.
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let pendingNul = -1;
  try {
    for await (const chunk of opened.stream as AsyncIterable<Buffer>) {
      if (pendingNul < 0) {
        const nul = chunk.indexOf(0);
        if (nul >= 0) pendingNul = pendingLength + nul;
      }
      pending.push(chunk);
      pendingLength += chunk.length;
      if (pendingNul < 0 || pendingNul + 21 > pendingLength) continue;
      const bytes = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingLength);
      let pos = 0;
      let batch: StreamedTreeEntry[] = [];
      for (;;) {
        const nul = bytes.indexOf(0, pos);
        if (nul < 0 || nul + 21 > bytes.length) break;
        const next = readTreeEntryAt(bytes, pos, position);
        batch.push({
          mode: position.mode,
          name: bytes.toString('utf8', position.nameStart, position.nameEnd),
          oid: bytes.toString('hex', position.nameEnd + 1, next),
        });
        pos = next;
        if (batch.length === ENTRIES_PER_BATCH) {
          yield batch;
          await pacer.step();
          batch = [];
        }
      }
      const rest = bytes.subarray(pos);
      pending = rest.length > 0 ? [rest] : [];
      pendingLength = rest.length;
      pendingNul = rest.indexOf(0);
      if (batch.length > 0) {
        yield batch;
        await pacer.step();
      }
    }
  } finally {
    opened.stream.destroy();
  }
  if (pendingLength > 0) throw new Error(`${context}: tree ${oid} ends inside an entry`);
}

/** treeEntryBatches, one entry at a time. */
export async function* treeEntries(
  repo: Repository,
  oid: ObjectId,
  context: string,
  pacer = new LoopPacer(),
): AsyncGenerator<StreamedTreeEntry> {
  for await (const batch of treeEntryBatches(repo, oid, context, pacer)) yield* batch;
}
