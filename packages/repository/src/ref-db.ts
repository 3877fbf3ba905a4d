import { ZERO_OID, isObjectId, type ObjectId } from '@gitfleet/git-format';
import type { CasOp, CasResult, KVStore } from '@gitfleet/storage';
import type { JournalChange, RefJournal } from './journal/ref-journal.js';
import {
  HEAD_KEY,
  JOURNAL_SEQ_KEY,
  REF_KEY_PREFIX,
  escapeKeyPart,
  fenceKey,
  refKey,
  refNameFromKey,
  reflogName,
  repositoryScope,
} from './keys.js';
import { LoopPacer } from './loop-pacer.js';
import type { RefListingCache } from './ref-listing-cache.js';
import { assertValidRefName } from './ref-name.js';
import { lowerBound } from './sorted-names.js';

export { InvalidRefName, isValidRefName } from './ref-name.js';

/** Reads and writes of one fence() before it gives up: a fence changes once (absent to set), so two suffice unless the store misbehaves. */
const FENCE_ATTEMPTS = 3;

export interface Ref {
  name: string;
  oid: ObjectId;
}

export interface RefUpdate {
  name: string;
  /** The id the ref must have now; ZERO_OID means it must not exist. */
  oldOid: ObjectId;
  /** The id to set; ZERO_OID deletes the ref. */
  newOid: ObjectId;
}

/** An update of a batch that was not applied, and why. */
export interface RefUpdateConflict {
  name: string;
  /**
   * 'moved': the ref no longer had the expected old id. 'name-taken': the update would create
   * a ref beside another whose name is its directory or lies under it (`a` and `a/b`), which
   * git cannot store together. 'fenced': the update's fence was set (RefDB.fence) before it
   * could apply.
   */
  kind: 'moved' | 'name-taken' | 'fenced';
  /** For 'name-taken', the other ref when it is still there to name; `inBatch` when it is another update of the same batch. */
  other?: { name: string; inBatch: boolean };
}

export interface ReflogEntry {
  oldOid: ObjectId;
  newOid: ObjectId;
  /** Who and why, e.g. "push" with a user name once accounts exist. */
  message: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
}

export interface RefUpdateOptions {
  atomic: boolean;
  message: string;
  /** Who asks, for the journal. */
  actor?: string;
  /** Checksums of the packs the updates make reachable, for the journal. */
  packs?: readonly string[];
  /**
   * A name no fence(name) has been set for: checked in the compare-and-swap, so that once the
   * fence is set the updates can never be applied (see RefDB.fence).
   */
  fence?: string;
}

/** The refs under a prefix as one read saw them, and what tells that state apart from any other. */
export interface RefListing {
  refs: readonly Readonly<Ref>[];
  /**
   * Equal for two listings of the repository's refs under the same prefix only when no ref
   * changed in between (the journal's sequence number); undefined when the store cannot tell.
   * What is computed from the refs alone may be kept under it.
   */
  version: string | undefined;
}

/**
 * Refs of one repository, in the KV store. Every change (update, setHead, setHeadIfUnborn) is
 * journaled in the blob store before it resolves (journal/ref-journal.ts); one that is applied
 * but cannot be journaled rejects with JournalWriteError.
 */
export interface RefDB {
  /** Every ref under refs/ (sorted by name), in one round trip. */
  list(prefix?: string): Promise<Ref[]>;
  /** list() as it is shared with other readers (not to be changed), with its version. */
  listing(prefix?: string): Promise<RefListing>;
  /** Id of a ref; "HEAD" is followed to its target. */
  get(name: string): Promise<ObjectId | undefined>;
  /** Target of the symbolic ref HEAD, e.g. "refs/heads/main" (it may be unborn). */
  head(): Promise<string>;
  setHead(target: string): Promise<void>;
  /**
   * Points HEAD at `target` when HEAD is unborn (the ref it names does not exist) and `target`
   * exists, both checked in the compare-and-swap that moves HEAD: a ref created or deleted
   * meanwhile is seen, never overwritten, so HEAD is never left at a missing ref by this.
   * @returns whether HEAD now points at `target`.
   */
  setHeadIfUnborn(target: string): Promise<boolean>;
  /**
   * Compare-and-swap of several refs in one atomic step, with reflog entries. A ref is
   * created only where no other ref's name is its directory or lies under it, checked in the
   * same step (deletions of the batch count first, then the other updates in order).
   * atomic: all or nothing. Otherwise each ref on its own.
   * Throws, changing nothing, for a malformed name (InvalidRefName), a malformed id or a ref named twice.
   * @returns the updates that were not applied, in batch order, with the reason.
   */
  update(updates: readonly RefUpdate[], options: RefUpdateOptions): Promise<RefUpdateConflict[]>;
  /** Reflog of a ref, oldest first; with `limit`, only the newest `limit` entries. */
  reflog(name: string, limit?: number): Promise<ReflogEntry[]>;
  /**
   * Sets the fence `name` for good: an update() given this fence that has not been applied yet
   * never will be. Whoever must know whether such an update happened, while its writer may still
   * be alive, sets the fence and then reads the reflog: what it shows then is all there will
   * ever be (the fence and the updates live in one scope, where writes are totally ordered).
   * One small key per fence stays in the repository's scope.
   */
  fence(name: string): Promise<void>;
}

const isDeletion = (update: RefUpdate) => update.newOid === ZERO_OID;

/** "refs/heads/a/b" → ["refs/heads", "refs/heads/a"]: the names a ref at `name` excludes above it. */
function parentDirectories(name: string): string[] {
  const directories: string[] = [];
  for (let slash = name.indexOf('/', name.indexOf('/') + 1); slash !== -1; slash = name.indexOf('/', slash + 1)) {
    directories.push(name.slice(0, slash));
  }
  return directories;
}

/** What must not exist for a ref `name` to be created: a ref at one of its directories, or one under it. */
function namesInTheWay(name: string): CasOp['requireAbsent'] {
  return { keys: parentDirectories(name).map(refKey), prefixes: [REF_KEY_PREFIX + escapeKeyPart(`${name}/`)] };
}

/**
 * The names of a batch, to find one that stands in the way of a name (a directory of it, or
 * under it) in O(depth + log n) rather than by a pass over the batch.
 */
class NameIndex {
  private readonly names: Set<string>;
  private readonly sorted: string[];

  constructor(names: readonly string[]) {
    this.names = new Set(names);
    this.sorted = [...this.names].sort();
  }

  inTheWayOf(name: string): string | undefined {
    const directory = parentDirectories(name).find((dir) => this.names.has(dir));
    if (directory !== undefined) return directory;
    // Names under `name/` sort together, right from where `name/` would be.
    const below = this.sorted[lowerBound(this.sorted, `${name}/`)];
    return below?.startsWith(`${name}/`) ? below : undefined;
  }
}

/**
 * `refs` in git's order, by the bytes of their names (escaped keys sort differently). For ASCII
 * names, JavaScript's own string order is that order; other names are compared as UTF-8, each
 * encoded once.
 */
function sortByBytes(refs: Ref[]): Ref[] {
  // eslint-disable-next-line no-control-regex
  if (refs.every((ref) => /^[\x00-\x7f]*$/.test(ref.name))) return refs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const keyed = refs.map((ref) => ({ ref, bytes: Buffer.from(ref.name, 'utf8') }));
  return keyed.sort((a, b) => Buffer.compare(a.bytes, b.bytes)).map(({ ref }) => ref);
}

export class KVRefDB implements RefDB {
  private readonly scope: string;

  constructor(
    private readonly repositoryId: string,
    private readonly kv: KVStore,
    /** Absent only in unit tests of the ref table alone: changes are then kept in the KV store only. */
    private readonly journal?: RefJournal,
    /** Listings kept while the journal's sequence number says they are current (needs the journal). */
    private readonly listings?: RefListingCache,
  ) {
    this.scope = repositoryScope(repositoryId);
  }

  async list(prefix = 'refs/'): Promise<Ref[]> {
    return [...(await this.listing(prefix)).refs];
  }

  async listing(prefix = 'refs/'): Promise<RefListing> {
    if (!this.journal || !this.listings) return { refs: await this.scan(prefix), version: undefined };
    // Read before the scan: a transaction committed during the scan leaves a newer number, so
    // the listing is never taken for more current than it is.
    const seq = await this.kv.get(this.scope, JOURNAL_SEQ_KEY);
    // No number yet (a repository older than the journal, not written to since): nothing to check a listing against.
    if (seq === undefined) return { refs: await this.scan(prefix), version: undefined };
    const cached = this.listings.get(this.repositoryId, prefix, seq);
    if (cached) return { refs: cached, version: seq };
    const refs = await this.scan(prefix);
    return { refs: this.listings.set(this.repositoryId, prefix, seq, refs), version: seq };
  }

  private async scan(prefix: string): Promise<Ref[]> {
    const entries = await this.kv.scan(this.scope, REF_KEY_PREFIX + escapeKeyPart(prefix));
    const refs = entries.map(({ key, value }) => ({ name: refNameFromKey(key), oid: value }));
    return sortByBytes(refs);
  }

  async get(name: string): Promise<ObjectId | undefined> {
    const refName = name === 'HEAD' ? await this.head() : name;
    return this.kv.get(this.scope, refKey(refName));
  }

  async head(): Promise<string> {
    const target = await this.kv.get(this.scope, HEAD_KEY);
    if (target === undefined) throw new Error(`${this.scope}: HEAD is missing`);
    return target;
  }

  async setHead(target: string): Promise<void> {
    assertValidRefName(target);
    // The KV store writes only by compare-and-swap; a lost race with another setHead just retries.
    for (;;) {
      const current = (await this.kv.get(this.scope, HEAD_KEY)) ?? null;
      if (current === target) return;
      const { conflicts } = await this.swap([{ key: HEAD_KEY, expect: current, value: target }], 'all', () => ({
        message: 'set HEAD',
        refs: [],
        head: target,
      }));
      if (conflicts.length === 0) return;
    }
  }

  async setHeadIfUnborn(target: string): Promise<boolean> {
    assertValidRefName(target);
    // Each lost race means another writer changed HEAD or one of the two refs: decide again on what is there now.
    for (;;) {
      const head = await this.head();
      if (head === target) return true;
      const current = await this.kv.getMany(this.scope, [refKey(head), refKey(target)]);
      const targetOid = current.get(refKey(target));
      if (current.has(refKey(head)) || targetOid === undefined) return false;
      const { conflicts } = await this.swap(
        [
          // Rewritten with its own value: the swap holds only while `target` is still there.
          { key: refKey(target), expect: targetOid, value: targetOid },
          { key: HEAD_KEY, expect: head, value: target, requireAbsent: { keys: [refKey(head)] } },
        ],
        'all',
        () => ({ message: 'set HEAD to the first branch of an unborn repository', refs: [], head: target }),
      );
      if (conflicts.length === 0) return true;
    }
  }

  async update(updates: readonly RefUpdate[], options: RefUpdateOptions): Promise<RefUpdateConflict[]> {
    // A batch may hold thousands of refs: each pass over it lets the event loop turn now and then.
    const pacer = new LoopPacer();
    const seen = new Set<string>();
    for (const { name, oldOid, newOid } of updates) {
      await pacer.step();
      assertValidRefName(name);
      if (seen.has(name)) throw new Error(`ref update: ${name} is updated twice in one batch`);
      seen.add(name);
      for (const oid of [oldOid, newOid]) {
        if (!isObjectId(oid)) throw new Error(`ref update of ${name}: ${JSON.stringify(oid)} is not an object id`);
      }
    }
    if (updates.length === 0) return [];
    // Deletions first, so that a batch may replace `a` by `a/b` (or the reverse), as git's transactions allow.
    const ordered = [...updates.filter(isDeletion), ...updates.filter((update) => !isDeletion(update))];
    const timestamp = Date.now();
    const ops: CasOp[] = [];
    // On every op, not as an op of its own: in mode 'each' a fence set must refuse each update.
    const fence = options.fence === undefined ? [] : [fenceKey(options.fence)];
    for (const { name, oldOid, newOid } of ordered) {
      await pacer.step();
      const entry: ReflogEntry = { oldOid, newOid, message: options.message, timestamp };
      const inTheWay = oldOid === ZERO_OID && newOid !== ZERO_OID ? namesInTheWay(name) : undefined;
      const requireAbsent = { ...inTheWay, keys: [...(inTheWay?.keys ?? []), ...fence] };
      ops.push({
        key: refKey(name),
        expect: oldOid === ZERO_OID ? null : oldOid,
        value: newOid === ZERO_OID ? null : newOid,
        log: { name: reflogName(name), entry: JSON.stringify(entry) },
        ...(requireAbsent.keys.length > 0 || requireAbsent.prefixes ? { requireAbsent } : {}),
      });
    }
    const { conflicts } = await this.swap(ops, options.atomic ? 'all' : 'each', (applied) => ({
      message: options.message,
      ...(options.actor !== undefined ? { actor: options.actor } : {}),
      refs: applied.map((i) => ({ name: ordered[i].name, oldOid: ordered[i].oldOid, newOid: ordered[i].newOid })),
      ...(options.packs?.length ? { packs: [...options.packs] } : {}),
    }));
    if (conflicts.length === 0) return [];
    const refused = new Set(conflicts.map((i) => ordered[i].name));
    const refusedUpdates = updates.filter((update) => refused.has(update.name));
    // A fence set refuses every update of the batch, whatever else holds.
    if (fence.length > 0 && (await this.kv.get(this.scope, fence[0])) !== undefined)
      return refusedUpdates.map((update) => ({ name: update.name, kind: 'fenced' }));
    return this.explain(refusedUpdates, updates, pacer);
  }

  private swap(ops: readonly CasOp[], mode: 'all' | 'each', describe: (applied: readonly number[]) => JournalChange): Promise<CasResult> {
    return this.journal ? this.journal.swap(ops, mode, describe) : this.kv.compareAndSwap(this.scope, ops, mode);
  }

  /** Why each refused update was refused, read after the fact (only the message depends on it). */
  private async explain(refused: readonly RefUpdate[], batch: readonly RefUpdate[], pacer: LoopPacer): Promise<RefUpdateConflict[]> {
    const now = await this.kv.getMany(
      this.scope,
      refused.map((update) => refKey(update.name)),
    );
    const moved = (update: RefUpdate) => (now.get(refKey(update.name)) ?? ZERO_OID) !== update.oldOid;
    const stored = await this.storedNamesInTheWay(
      refused.filter((update) => !moved(update)).map((update) => update.name),
      pacer,
    );
    const created = new NameIndex(batch.filter((update) => !isDeletion(update)).map((update) => update.name));
    const explained: RefUpdateConflict[] = [];
    for (const update of refused) {
      await pacer.step();
      if (moved(update)) {
        explained.push({ name: update.name, kind: 'moved' });
        continue;
      }
      const storedOther = stored.get(update.name);
      const batchmate = storedOther === undefined ? created.inTheWayOf(update.name) : undefined;
      const other =
        storedOther !== undefined
          ? { name: storedOther, inBatch: false }
          : batchmate !== undefined
            ? { name: batchmate, inBatch: true }
            : undefined;
      explained.push({ name: update.name, kind: 'name-taken', ...(other ? { other } : {}) });
    }
    return explained;
  }

  /** For each of `names` that has one, a stored ref whose name is a directory of it or lies under it. */
  private async storedNamesInTheWay(names: readonly string[], pacer: LoopPacer): Promise<Map<string, string>> {
    const directories = new Set(names.flatMap(parentDirectories));
    const found = await this.kv.getMany(this.scope, [...directories].map(refKey));
    const inTheWay = new Map<string, string>();
    // A store call each, which stores such as SQLite answer without a real wait.
    const scans = new LoopPacer();
    for (const name of names) {
      await pacer.step();
      const directory = parentDirectories(name).find((dir) => found.has(refKey(dir)));
      if (directory !== undefined) {
        inTheWay.set(name, directory);
        continue;
      }
      await scans.step();
      const [below] = await this.kv.scan(this.scope, REF_KEY_PREFIX + escapeKeyPart(`${name}/`));
      if (below) inTheWay.set(name, refNameFromKey(below.key));
    }
    return inTheWay;
  }

  async fence(name: string): Promise<void> {
    const key = fenceKey(name);
    for (let tries = 0; tries < FENCE_ATTEMPTS; tries++) {
      const current = (await this.kv.get(this.scope, key)) ?? null;
      // A fence found set is written again with its own value: it may be one whose replicas never
      // acknowledged it (the master applied it, then WAIT fell short), and only a write that
      // applies is followed by a WAIT that must succeed, so a fence settles nothing until replicated.
      const value = current ?? new Date().toISOString();
      const { conflicts } = await this.kv.compareAndSwap(this.scope, [{ key, expect: current, value }], 'all');
      if (conflicts.length === 0) return;
    }
    throw new Error(`fence ${name} in ${this.scope}: set concurrently ${FENCE_ATTEMPTS} times in a row; try again`);
  }

  async reflog(name: string, limit?: number): Promise<ReflogEntry[]> {
    const entries = await this.kv.readLog(this.scope, reflogName(name), limit === undefined ? undefined : { limit });
    return entries.map((entry) => JSON.parse(entry) as ReflogEntry);
  }
}
