import { FileMode, newTreeEntryPosition, readTreeEntryAt, type ObjectId, type TreeEntryPosition } from '@gitfleet/git-format';
import { lastAtOrBefore } from '../sorted-numbers.js';

/** A tree's data with where each of its entries starts, and data.length last: what a tree based on it is compared with. */
export interface TreeEntries {
  data: Buffer;
  starts: Int32Array;
}

export function treeEntries(data: Buffer): TreeEntries {
  const starts: number[] = [];
  const entry = newTreeEntryPosition();
  for (let pos = 0; pos < data.length; pos = readTreeEntryAt(data, pos, entry)) starts.push(pos);
  starts.push(data.length);
  return { data, starts: Int32Array.from(starts) };
}

/** Called for an entry of a tree (its id at entry.nameEnd + 1), with the id of the base's subtree of the same name when both are directories. */
export type EntryVisitor = (entry: TreeEntryPosition, baseSubtree: ObjectId | undefined) => void;

/** Bytes compared natively at a time before the byte loop: neighbouring trees share most of their bytes. */
const COMPARE_CHUNK = 1024;

/**
 * Visits the entries of `data` that `base` does not hold as they are (same name, mode and id), or
 * every entry without a base. Two trees of neighbouring commits are mostly the same bytes: the
 * entries in their common prefix, and those in their common suffix from an entry boundary of
 * both, are passed over without being parsed; only the entries between are, and matched with the
 * base's by name. Returns the entries' starts of `data` when `keepStarts`, for a tree based on it.
 */
export function visitChangedEntries(
  data: Buffer,
  base: TreeEntries | undefined,
  keepStarts: boolean,
  visit: EntryVisitor,
): TreeEntries | undefined {
  const entry = newTreeEntryPosition();
  if (!base) {
    const starts: number[] = [];
    for (let pos = 0; pos < data.length;) {
      if (keepStarts) starts.push(pos);
      pos = readTreeEntryAt(data, pos, entry);
      visit(entry, undefined);
    }
    if (!keepStarts) return undefined;
    starts.push(data.length);
    return { data, starts: Int32Array.from(starts) };
  }

  const baseData = base.data;
  const baseStarts = base.starts;
  const prefix = commonPrefixLength(data, baseData);
  // The base's last entry starting within the common prefix: every entry before it is the same in both.
  const baseIndex = lastAtOrBefore(baseStarts, prefix);
  const from = baseStarts[baseIndex];
  const shift = data.length - baseData.length;
  const tailFrom = baseData.length - commonSuffixLength(data, baseData, Math.min(data.length, baseData.length) - from);

  const middle: number[] = [];
  const baseEntry = newTreeEntryPosition();
  let basePos = from;
  let baseNext = -1;
  let pos = from;
  let tailIndex = baseIndex;
  while (pos < data.length) {
    // From a boundary of both inside the common suffix on, the rest is the base's entries as they are.
    if (pos - shift >= tailFrom) {
      while (baseStarts[tailIndex] < pos - shift) tailIndex++;
      if (baseStarts[tailIndex] === pos - shift) break;
    }
    if (keepStarts) middle.push(pos);
    pos = readTreeEntryAt(data, pos, entry);
    let order = 1;
    while (basePos < baseData.length) {
      if (baseNext < 0) baseNext = readTreeEntryAt(baseData, basePos, baseEntry);
      order = compareEntryNames(baseData, baseEntry, data, entry);
      if (order >= 0) break;
      basePos = baseNext;
      baseNext = -1;
    }
    if (order !== 0) {
      visit(entry, undefined);
      continue;
    }
    const baseAt = baseEntry.nameEnd + 1;
    const at = entry.nameEnd + 1;
    basePos = baseNext;
    baseNext = -1;
    if (baseEntry.mode === entry.mode && sameId(baseData, baseAt, data, at)) continue;
    const bothDirectories = entry.mode === FileMode.Dir && baseEntry.mode === FileMode.Dir;
    visit(entry, bothDirectories ? baseData.toString('hex', baseAt, baseAt + 20) : undefined);
  }
  if (!keepStarts) return undefined;
  const tail = pos < data.length ? baseStarts.subarray(tailIndex) : baseStarts.subarray(baseStarts.length - 1);
  const starts = new Int32Array(baseIndex + middle.length + tail.length);
  starts.set(baseStarts.subarray(0, baseIndex));
  starts.set(middle, baseIndex);
  for (let i = 0; i < tail.length; i++) starts[baseIndex + middle.length + i] = tail[i] + shift;
  return { data, starts };
}

function commonPrefixLength(a: Buffer, b: Buffer): number {
  const length = Math.min(a.length, b.length);
  let i = 0;
  while (i + COMPARE_CHUNK <= length && a.compare(b, i, i + COMPARE_CHUNK, i, i + COMPARE_CHUNK) === 0) i += COMPARE_CHUNK;
  while (i < length && a[i] === b[i]) i++;
  return i;
}

/** Bytes at the ends of `a` and `b` that are the same, at most `limit`. */
function commonSuffixLength(a: Buffer, b: Buffer, limit: number): number {
  let n = 0;
  while (
    n + COMPARE_CHUNK <= limit &&
    a.compare(b, b.length - n - COMPARE_CHUNK, b.length - n, a.length - n - COMPARE_CHUNK, a.length - n) === 0
  ) {
    n += COMPARE_CHUNK;
  }
  while (n < limit && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return n;
}

/** Git's order of tree entries (base_name_compare): names bytewise, a directory's as if it ended in '/'. */
function compareEntryNames(a: Uint8Array, aEntry: TreeEntryPosition, b: Uint8Array, bEntry: TreeEntryPosition): number {
  const aLength = aEntry.nameEnd - aEntry.nameStart;
  const bLength = bEntry.nameEnd - bEntry.nameStart;
  const common = Math.min(aLength, bLength);
  for (let i = 0; i < common; i++) {
    const difference = a[aEntry.nameStart + i] - b[bEntry.nameStart + i];
    if (difference !== 0) return difference;
  }
  const aNext = aLength > common ? a[aEntry.nameStart + common] : aEntry.mode === FileMode.Dir ? SLASH : 0;
  const bNext = bLength > common ? b[bEntry.nameStart + common] : bEntry.mode === FileMode.Dir ? SLASH : 0;
  return aNext - bNext;
}

const SLASH = 0x2f;

function sameId(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number): boolean {
  for (let i = 0; i < 20; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}
