/**
 * Replay of the journal: from the newest checkpoint (or nothing), apply each later entry in
 * sequence order. Entries hold absolute values, so a missing entry (a gap: a transaction that
 * committed in the KV store but was never acknowledged, see ref-journal.ts) needs no repair; it
 * is only reported.
 */
import { ZERO_OID, type ObjectId } from '@gitfleet/git-format';
import type { RefCheckpoint, RefTransaction, RegistryCheckpoint, RegistryEntry } from './format.js';

/** What the journal says about a pack: its record in a checkpoint, or the transaction that made it reachable. */
export interface JournaledPack {
  createdAt: string;
  kind?: RefCheckpoint['packs'][number]['kind'];
  objects?: number;
}

export interface ReplayedRepository {
  /** The last sequence number replayed (0: none). */
  seq: number;
  /** HEAD's target; undefined when neither a checkpoint nor an entry set it. */
  head: string | undefined;
  refs: Map<string, ObjectId>;
  packs: Map<string, JournaledPack>;
  /** Sequence numbers after the checkpoint that have no entry. */
  gaps: number[];
}

/** `entries` must be sorted by seq; those the checkpoint already includes are skipped. */
export function replayRefJournal(checkpoint: RefCheckpoint | undefined, entries: readonly RefTransaction[]): ReplayedRepository {
  const state: ReplayedRepository = {
    seq: checkpoint?.seq ?? 0,
    head: checkpoint?.head,
    refs: new Map(checkpoint?.refs.map(({ name, oid }) => [name, oid])),
    packs: new Map(checkpoint?.packs.map(({ checksum, createdAt, kind, objects }) => [checksum, { createdAt, kind, objects }])),
    gaps: [],
  };
  applyInOrder(state, entries, (entry) => {
    for (const { name, newOid } of entry.refs) {
      if (newOid === ZERO_OID) state.refs.delete(name);
      else state.refs.set(name, newOid);
    }
    if (entry.head !== undefined) state.head = entry.head;
    for (const checksum of entry.packs ?? []) {
      if (!state.packs.has(checksum)) state.packs.set(checksum, { createdAt: entry.time, kind: 'receive' });
    }
  });
  return state;
}

export interface ReplayedRegistry {
  seq: number;
  /** Registry key → value (JSON RepositoryInfo). */
  entries: Map<string, string>;
  gaps: number[];
}

/** `entries` must be sorted by seq; those the checkpoint already includes are skipped. */
export function replayRegistryJournal(checkpoint: RegistryCheckpoint | undefined, entries: readonly RegistryEntry[]): ReplayedRegistry {
  const state: ReplayedRegistry = {
    seq: checkpoint?.seq ?? 0,
    entries: new Map(checkpoint?.entries.map(({ key, value }) => [key, value])),
    gaps: [],
  };
  applyInOrder(state, entries, (entry) => {
    for (const { key, value } of entry.changes) {
      if (value === null) state.entries.delete(key);
      else state.entries.set(key, value);
    }
  });
  return state;
}

/** Applies the entries after `state.seq`, in order, noting the sequence numbers missing between them. */
function applyInOrder<E extends { seq: number }>(
  state: { seq: number; gaps: number[] },
  entries: readonly E[],
  apply: (entry: E) => void,
): void {
  for (const entry of entries) {
    if (entry.seq <= state.seq) continue;
    for (let missing = state.seq + 1; missing < entry.seq; missing++) state.gaps.push(missing);
    apply(entry);
    state.seq = entry.seq;
  }
}
