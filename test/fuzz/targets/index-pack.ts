/**
 * The pack indexer, as receive-pack runs it on a pushed pack: index the bytes (every entry
 * inflated, every delta resolved, thin-pack bases completed), fsck each object, then read each
 * object back through the idx it wrote; what comes back must hash to its id.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ExpansionBudget,
  FsckError,
  fsckObject,
  indexPack,
  PackFormatError,
  PackIndex,
  readPackedObject,
  type ObjectId,
  type ObjectType,
} from '@gitfleet/git-format';
import { FUZZ_PACK_LIMITS, OBJECT_HEADER_TOKENS } from '../limits.js';

export const coverage = ['packages/git-format/src/pack/', 'packages/git-format/src/fsck.ts', 'packages/git-format/src/objects.ts'];
export const dictionary = ['PACK', '\x00\x00\x00\x02', '\x00\x00\x00\x03', '\x78\x9c', '\x78\x01', ...OBJECT_HEADER_TOKENS, 'type '];
export const maxLength = 16384;

const MAX_OBJECT_SIZE = 1 << 20;
/** A base a thin pack may name that "the repository" holds: the empty blob. */
const EXTERNAL_BLOB = { oid: 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391', object: { type: 'blob' as ObjectType, data: Buffer.alloc(0) } };

const dir = mkdtempSync(path.join(process.env.GITFLEET_FUZZ_TMP ?? tmpdir(), 'gitfleet-fuzz-pack-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
const packPath = path.join(dir, 'input.pack');

export async function fuzz(data: Buffer): Promise<void> {
  writeFileSync(packPath, withTrailer(data));
  const checked = new Map<ObjectId, ObjectType>();
  try {
    const pack = await indexPack(packPath, {
      resolveExternal: async (oid) => (oid === EXTERNAL_BLOB.oid ? EXTERNAL_BLOB.object : undefined),
      onObject: (oid, type, body) => {
        fsckObject(type, body);
        checked.set(oid, type);
      },
      maxObjectSize: MAX_OBJECT_SIZE,
      limits: FUZZ_PACK_LIMITS,
      deltaBaseCacheBytes: 64 * 1024,
    });
    await readBack(pack.idx, pack.packSize, pack.inflatedBytes, checked);
  } catch (error) {
    if (error instanceof PackFormatError || error instanceof FsckError) return;
    throw error;
  }
}

/** Most inputs keep a valid trailer, so that mutations reach the entries; the others test the trailer check. */
function withTrailer(data: Buffer): Buffer {
  if (data.length < 20 || data[data.length - 1] === 0x21) return data;
  const body = data.subarray(0, data.length - 20);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

async function readBack(idx: Buffer, packSize: number, inflated: number, checked: Map<ObjectId, ObjectType>): Promise<void> {
  const index = PackIndex.parse(idx, packSize);
  if (index.objectCount < checked.size) throw new Error(`idx lists ${index.objectCount} objects, ${checked.size} were checked`);
  const budget = new ExpansionBudget(FUZZ_PACK_LIMITS, packSize, inflated);
  const file = await open(packPath, 'r');
  try {
    for (const entry of index.entries()) {
      const object = await readPackedObject(file, index, entry.oid, budget);
      if (object === undefined) throw new Error(`idx entry ${entry.oid} cannot be read back`);
      const id = createHash('sha1').update(`${object.type} ${object.data.length}\0`).update(object.data).digest('hex');
      if (id !== entry.oid) throw new Error(`object read back as ${id}, indexed as ${entry.oid}`);
      const type = checked.get(entry.oid);
      if (type !== undefined && type !== object.type)
        throw new Error(`object ${entry.oid} indexed as a ${type}, read back as a ${object.type}`);
    }
  } finally {
    await file.close();
  }
}
