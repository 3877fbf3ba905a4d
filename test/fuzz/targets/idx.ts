/** The .idx v2 reader: parse, then every lookup the object readers make. */
import { createHash } from 'node:crypto';
import { PackFormatError, PackIndex } from '@gitfleet/git-format';

export const coverage = ['packages/git-format/src/pack/index-file.ts'];
export const dictionary = [
  '\xfftOc',
  '\x00\x00\x00\x02',
  '\x00\x00\x00\x00',
  '\x00\x00\x00\x01',
  '\x80\x00\x00\x00',
  '\x7f\xff\xff\xff',
  '\xff\xff\xff\xff',
];
export const maxLength = 16384;

export function fuzz(data: Buffer): void {
  if (data.length < 4) return;
  // The first 4 bytes are the pack's size, which bounds the offsets the idx may hold.
  const packSize = data.readUInt32BE(0);
  const idx = withChecksum(data.subarray(4));
  let index: PackIndex;
  try {
    index = PackIndex.parse(idx, packSize);
  } catch (error) {
    if (error instanceof PackFormatError) return;
    throw error;
  }
  try {
    exercise(index);
  } catch (error) {
    // Lookups of a parsed index trust it: only what parse let through may fail, and only as a corrupt pack.
    if (error instanceof PackFormatError) return;
    throw error;
  }
}

function exercise(index: PackIndex): void {
  const byId = [...index.entries()];
  const byOffset = [...index.entriesByOffset()];
  if (byOffset.length !== byId.length) throw new Error(`entries() gave ${byId.length}, entriesByOffset() ${byOffset.length}`);
  for (let i = 1; i < byOffset.length; i++) {
    if (byOffset[i].offset < byOffset[i - 1].offset) throw new Error('entriesByOffset() is not in offset order');
  }
  for (const [position, entry] of byId.entries()) {
    // An idx is the server's own file, not the client's: parse checks it for damage, not for a
    // consistent fanout and id order, so find() is only run, not held to entries().
    index.find(entry.oid);
    if (index.offsetAtIndexPosition(position) !== entry.offset)
      throw new Error(`offsetAtIndexPosition(${position}) disagrees with entries()`);
    index.entryEnd(entry.offset);
    index.oidAt(entry.offset);
    index.idsWithPrefix(entry.oid.slice(0, 1 + (position % 39)), 4);
  }
  index.indexPositionsInPackOrder();
  index.idsWithPrefix('0', 10);
  index.find('f'.repeat(40));
}

/** An idx ends with the SHA-1 of what precedes it: kept valid (except in inputs ending "!") so that mutations reach past the check. */
function withChecksum(idx: Buffer): Buffer {
  if (idx.length < 20 || idx[idx.length - 1] === 0x21) return idx;
  const body = idx.subarray(0, idx.length - 20);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}
