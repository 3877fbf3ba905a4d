/**
 * The `.rev` file (gitformat-pack, "pack-*.rev files"): for each object in pack order, its
 * position in the `.idx`. "RIDX", version 1, hash id 1 (SHA-1), the positions as u32
 * big-endian, the pack checksum, and the SHA-1 of everything before it.
 */
import { createHash } from 'node:crypto';
import type { ObjectId } from '../oid.js';
import { sortPositionsByOffset, type PackIndex } from '../pack/index-file.js';
import { CorruptSidecarError } from './errors.js';

const RIDX_MAGIC = 0x52494458;
const RIDX_VERSION = 1;
const SHA1_HASH_ID = 1;
const HEADER_BYTES = 12;

/** Idx positions in pack order: the reverse index of a pack whose objects sit at `offsetsByIndexPosition`. */
export function reverseIndexFromOffsets(offsetsByIndexPosition: Float64Array): Uint32Array {
  let end = 0;
  for (const offset of offsetsByIndexPosition) end = Math.max(end, offset + 1);
  const packOrder = sortPositionsByOffset(offsetsByIndexPosition, end);
  for (let i = 1; i < packOrder.length; i++) {
    const offset = offsetsByIndexPosition[packOrder[i]];
    if (offset === offsetsByIndexPosition[packOrder[i - 1]]) throw new RangeError(`two objects at pack offset ${offset}`);
  }
  return packOrder;
}

/** The inverse permutation: for each idx position, its position in the pack (its bit in a bitmap). */
export function packPositionsByIndexPosition(packOrder: Uint32Array): Uint32Array {
  const inverse = new Uint32Array(packOrder.length);
  for (let packPosition = 0; packPosition < packOrder.length; packPosition++) inverse[packOrder[packPosition]] = packPosition;
  return inverse;
}

export function writeReverseIndex(packOrder: Uint32Array, packChecksum: ObjectId): Buffer {
  requirePermutation(packOrder, (detail) => new RangeError(detail));
  const checksum = Buffer.from(packChecksum, 'hex');
  if (checksum.length !== 20) throw new RangeError(`invalid pack checksum ${packChecksum}`);
  const count = packOrder.length;
  const out = Buffer.alloc(HEADER_BYTES + 4 * count + 40);
  out.writeUInt32BE(RIDX_MAGIC, 0);
  out.writeUInt32BE(RIDX_VERSION, 4);
  out.writeUInt32BE(SHA1_HASH_ID, 8);
  for (let i = 0; i < count; i++) out.writeUInt32BE(packOrder[i], HEADER_BYTES + 4 * i);
  checksum.copy(out, HEADER_BYTES + 4 * count);
  const trailerAt = out.length - 20;
  createHash('sha1').update(out.subarray(0, trailerAt)).digest().copy(out, trailerAt);
  return out;
}

/**
 * Reads a `.rev` for the pack with this checksum and object count; CorruptSidecarError
 * unless it is well formed, belongs to that pack, and its positions are a permutation.
 */
export function readReverseIndex(bytes: Uint8Array, pack: { objectCount: number; packChecksum: ObjectId }): Uint32Array {
  const file = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const expectedLength = HEADER_BYTES + 4 * pack.objectCount + 40;
  if (file.length !== expectedLength) {
    throw new CorruptSidecarError('rev', `${file.length} bytes where ${pack.objectCount} objects take ${expectedLength}`);
  }
  if (file.readUInt32BE(0) !== RIDX_MAGIC) throw new CorruptSidecarError('rev', 'bad signature at offset 0');
  const version = file.readUInt32BE(4);
  if (version !== RIDX_VERSION) throw new CorruptSidecarError('rev', `unsupported version ${version} at offset 4`);
  const hashId = file.readUInt32BE(8);
  if (hashId !== SHA1_HASH_ID) throw new CorruptSidecarError('rev', `unsupported hash id ${hashId} at offset 8`);
  const trailerAt = file.length - 20;
  if (!createHash('sha1').update(file.subarray(0, trailerAt)).digest().equals(file.subarray(trailerAt))) {
    throw new CorruptSidecarError('rev', 'checksum mismatch');
  }
  const packChecksum = file.toString('hex', trailerAt - 20, trailerAt);
  if (packChecksum !== pack.packChecksum)
    throw new CorruptSidecarError('rev', `written for pack ${packChecksum}, not ${pack.packChecksum}`);
  const packOrder = new Uint32Array(pack.objectCount);
  for (let i = 0; i < pack.objectCount; i++) packOrder[i] = file.readUInt32BE(HEADER_BYTES + 4 * i);
  requirePermutation(packOrder, (detail) => new CorruptSidecarError('rev', detail));
  return packOrder;
}

function requirePermutation(packOrder: Uint32Array, fail: (detail: string) => Error): void {
  const seen = new Uint8Array(packOrder.length);
  for (let i = 0; i < packOrder.length; i++) {
    const position = packOrder[i];
    if (position >= packOrder.length) throw fail(`pack position ${i} names idx position ${position} of ${packOrder.length}`);
    if (seen[position] === 1) throw fail(`idx position ${position} appears twice (again at pack position ${i})`);
    seen[position] = 1;
  }
}

/** The reverse index of the pack `index` describes: its idx positions sorted by pack offset. */
export function reverseIndexOf(index: PackIndex): Uint32Array {
  return index.indexPositionsInPackOrder();
}
