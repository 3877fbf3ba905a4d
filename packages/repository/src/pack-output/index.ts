/**
 * Packs for fetches, made from the stored packs as gitoxide's gix-pack `data::output` makes
 * them, in stages that each return their outcome: plan (which stored copy of each object to
 * send, in what order), entries (how each is sent: copied as stored, its delta re-pointed, or
 * recompressed whole) and write (the pack's bytes, streamed, then what it was made of).
 */
export { planPack, type PackSlice } from './plan.js';
export type { PackStreamOptions } from './entries.js';
export { streamPack, type PackStats } from './write.js';
export { observePackOutput, type PackOutputObserver } from './observer.js';
export { ReencodedEntryCache, sharedReencodedEntryCache, type ReencodedEntry } from './reencoded-cache.js';
