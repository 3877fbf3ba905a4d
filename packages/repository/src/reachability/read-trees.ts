import type { ObjectId } from '@gitfleet/git-format';
import { MissingObjectError } from '../errors.js';
import type { LoopPacer } from '../loop-pacer.js';
import type { ObjectReader } from '../object-reader.js';

/** Objects read at once: reads are asynchronous and may overlap (I/O, inflate). */
export const READ_BATCH = 32;

/**
 * Reads `trees` in order, READ_BATCH at a time (taking turns with the event loop before each
 * batch when given a pacer); `visit` gets each one's data and position in `trees`, and the data
 * of the tree `alongside` names for that position, read in the same batch (undefined when that
 * one cannot be read as a tree: it only helps).
 */
export async function readTrees(
  objects: ObjectReader,
  trees: readonly ObjectId[],
  visit: (data: Buffer, position: number, alongside: Buffer | undefined) => void,
  pacer?: LoopPacer,
  alongside?: (position: number) => ObjectId | undefined,
): Promise<void> {
  for (let i = 0; i < trees.length; i += READ_BATCH) {
    await pacer?.step();
    const batch = trees.slice(i, i + READ_BATCH);
    const extra = alongside ? batch.map((_, j) => alongside(i + j)) : [];
    const [read, extraRead] = await Promise.all([
      Promise.all(batch.map((oid) => readTree(objects, oid))),
      Promise.all(extra.map((oid) => (oid === undefined ? Promise.resolve(undefined) : readTree(objects, oid).catch(() => undefined)))),
    ]);
    for (let j = 0; j < batch.length; j++) visit(read[j], i + j, extraRead[j]);
  }
}

async function readTree(objects: ObjectReader, oid: ObjectId): Promise<Buffer> {
  const object = await objects.read(oid);
  if (!object) throw new MissingObjectError(oid, 'tree');
  if (object.type !== 'tree') throw new Error(`object ${oid} is a ${object.type}, where a tree was expected`);
  return object.data;
}
