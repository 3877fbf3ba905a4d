import type { ObjectId } from '@gitfleet/git-format';
import { MissingObjectError } from '../errors.js';
import type { LoopPacer } from '../loop-pacer.js';
import type { ObjectReader } from '../object-reader.js';

/** Objects read at once: reads are asynchronous and may overlap (I/O, inflate). */
export const READ_BATCH = 32;

/**
 * Reads `trees` in order, READ_BATCH at a time (taking turns with the event loop before each
 * batch when given a pacer); `visit` gets each one's data and position in `trees`.
 */
export async function readTrees(
  objects: ObjectReader,
  trees: readonly ObjectId[],
  visit: (data: Buffer, position: number) => void,
  pacer?: LoopPacer,
): Promise<void> {
  for (let i = 0; i < trees.length; i += READ_BATCH) {
    await pacer?.step();
    const batch = trees.slice(i, i + READ_BATCH);
    const read = await Promise.all(batch.map((oid) => objects.read(oid)));
    for (let j = 0; j < batch.length; j++) {
      const object = read[j];
      if (!object) throw new MissingObjectError(batch[j], 'tree');
      if (object.type !== 'tree') throw new Error(`object ${batch[j]} is a ${object.type}, where a tree was expected`);
      visit(object.data, i + j);
    }
  }
}
