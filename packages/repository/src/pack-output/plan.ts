import type { ObjectId, PackIndex } from '@gitfleet/git-format';
import { ReachedObjects } from '../bitmaps/reached-objects.js';
import { MissingObjectError } from '../errors.js';
import type { PackAccess } from '../pack-access.js';

/**
 * Below this share of the objects stored, the objects to send are looked up one by one; above
 * it, each pack's index is read through once (a shallow clone of a large repository sends a
 * few thousand objects of a million).
 */
const LOOKUP_SHARE = 1 / 32;

/** The objects to send that one stored pack provides, in pack order. */
export interface PackSlice {
  pack: string;
  index: PackIndex;
  /** Offsets of the entries to copy, ascending. */
  offsets: Float64Array;
  /** Where each entry landed in the outgoing pack; -1 until written. */
  written: Float64Array;
}

/**
 * Assigns every object to send to one stored copy of it, walking the packs' indexes, or
 * looking the objects up when they are few (LOOKUP_SHARE). Packs come newest first and keep that order in the
 * output, so a delta's base (at a lower offset of the same pack, or in a pack written
 * earlier) is in the outgoing pack before the delta whenever both are sent.
 *
 * Objects enumerated through a pack's bitmaps (ReachedObjects) come from that pack first, by
 * their bits: offsets straight from the reverse index, no index scanned, no id made.
 */
export async function planPack(packs: PackAccess, send: ReadonlySet<ObjectId>): Promise<PackSlice[]> {
  for (let attempt = 0; ; attempt++) {
    const slices: PackSlice[] = [];
    let found = 0;
    const earlier: PackIndex[] = [];
    // An object is taken from the first pack that has it: no set of assigned ids needed.
    const inEarlierPack = (oid: ObjectId): boolean => earlier.some((index) => index.find(oid) !== undefined);
    const bitmapped = send instanceof ReachedObjects ? bitmappedSlice(send) : undefined;
    if (bitmapped) {
      earlier.push(bitmapped.index);
      found += bitmapped.offsets.length;
      if (bitmapped.offsets.length > 0) slices.push(bitmapped);
    }
    const listed = (await packs.list()).filter((pack) => pack.checksum !== bitmapped?.pack);
    const stored = listed.reduce((sum, pack) => sum + pack.objects, 0);
    const byLookup = send.size - found < stored * LOOKUP_SHARE;
    // Looked up one by one, each object is taken from the first pack that has it; of a bitmapped
    // send only those outside the bitmapped pack are left, and no id of the rest is ever made.
    let remaining = byLookup ? [...notInBitmappedPack(send)].filter((oid) => !inEarlierPack(oid)) : [];
    for (const pack of listed) {
      if (byLookup && remaining.length === 0) break;
      const index = await packs.index(pack.checksum);
      const offsets: number[] = [];
      if (byLookup) {
        const left: ObjectId[] = [];
        for (const oid of remaining) {
          const offset = index.find(oid);
          if (offset === undefined) left.push(oid);
          else offsets.push(offset);
        }
        remaining = left;
      } else {
        for (const entry of index.entries()) {
          if (send.has(entry.oid) && (earlier.length === 0 || !inEarlierPack(entry.oid))) offsets.push(entry.offset);
        }
      }
      earlier.push(index);
      if (offsets.length === 0) continue;
      found += offsets.length;
      const sorted = Float64Array.from(offsets).sort();
      slices.push({ pack: pack.checksum, index, offsets: sorted, written: new Float64Array(sorted.length).fill(-1) });
    }
    if (found === send.size) return slices;
    // A pack registered after our list was read (a concurrent push) may hold the rest.
    if (attempt === 0) {
      await packs.refresh();
      continue;
    }
    for (const oid of send) {
      if (!inEarlierPack(oid)) throw new MissingObjectError(oid, "to be sent, yet in none of the repository's packs");
    }
  }
}

function notInBitmappedPack(send: ReadonlySet<ObjectId>): Iterable<ObjectId> {
  return send instanceof ReachedObjects ? send.reached.outside.values() : send;
}

/** The slice of the bitmapped pack: its set bits are pack positions, in offset order already. */
function bitmappedSlice(send: ReachedObjects): PackSlice {
  const { bitmaps } = send;
  const positions = send.reached.bits.setBits();
  const offsets = new Float64Array(positions.length);
  for (let i = 0; i < positions.length; i++) offsets[i] = bitmaps.offsetAt(positions[i]);
  return { pack: bitmaps.checksum, index: bitmaps.index, offsets, written: new Float64Array(offsets.length).fill(-1) };
}

/** Position of `offset` in a slice's sorted offsets, or -1. */
export function positionOf(slice: PackSlice, offset: number): number {
  const offsets = slice.offsets;
  let lo = 0;
  let hi = offsets.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const value = offsets[mid];
    if (value === offset) return mid;
    if (value < offset) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
