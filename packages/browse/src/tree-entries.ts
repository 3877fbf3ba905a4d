import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { newTreeEntryPosition, readTreeEntryAt, type ObjectId } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { openObject } from './objects.js';

export interface StreamedTreeEntry {
  /** As a number, e.g. 0o100644. */
  mode: number;
  name: string;
  oid: ObjectId;
}

/** Entries parsed between two turns of the event loop. */
const ENTRIES_PER_TURN = 4096;

/**
 * A tree's entries in stored order, parsed as its bytes arrive: a tree may be as large as an
 * object may be (millions of entries), so a reader that wants the first entries inflates only
 * those, and a reader that scans them all gives the event loop a turn every few thousand.
 */
export async function* treeEntries(repo: Repository, oid: ObjectId, context: string): AsyncGenerator<StreamedTreeEntry> {
  const opened = await openObject(repo, oid, 'tree', context);
  const position = newTreeEntryPosition();
  let pending: Buffer = Buffer.alloc(0);
  let sinceTurn = 0;
  try {
    for await (const chunk of opened.stream as AsyncIterable<Buffer>) {
      const bytes = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let pos = 0;
      for (;;) {
        const nul = bytes.indexOf(0, pos);
        if (nul < 0 || nul + 21 > bytes.length) break;
        const next = readTreeEntryAt(bytes, pos, position);
        yield { mode: position.mode, name: bytes.toString('utf8', position.nameStart, position.nameEnd), oid: bytes.toString('hex', position.nameEnd + 1, next) };
        pos = next;
        if (++sinceTurn >= ENTRIES_PER_TURN) {
          sinceTurn = 0;
          await yieldToLoop();
        }
      }
      pending = bytes.subarray(pos);
    }
  } finally {
    opened.stream.destroy();
  }
  if (pending.length > 0) throw new Error(`${context}: tree ${oid} ends inside an entry`);
}
