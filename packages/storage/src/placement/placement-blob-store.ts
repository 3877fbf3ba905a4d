import type { Readable } from 'node:stream';
import type { BlobBody, BlobInfo, BlobStore, ByteRange } from '../blob-store.js';
import { hasBlobAges, type BlobAges } from '../blob-ages.js';
import { hasDirectReadUrls, type DirectReadUrls } from '../direct-read-urls.js';
import {
  hasDirectWriteUrls,
  type DirectWrite,
  type DirectWriteContent,
  type DirectWriteOutcome,
  type DirectWriteUrls,
} from '../direct-write-urls.js';
import { validateBlobKey, validateBlobPrefix, validateByteRange } from '../validation.js';
import { hedgedRead } from './hedged-read.js';
import { cleanupAgeFloorMs, cleanupPlacement, type CleanupOptions, type CleanupReport } from './cleanup.js';
import { guardBody, guardedCopy, type GuardedBody } from './guarded-body.js';
import { mergeListings } from './merge-listings.js';
import { PlacementError, errorMessage as message, placementFailure, type StoreFailure } from './placement-error.js';
import { repairPlacement, type RepairOptions, type RepairReport } from './repair.js';
import { rendezvousOrder } from './rendezvous.js';
import { withTimeout } from './timeout.js';

/** One store of a placement, under a name that must never change: the name decides placement. */
export interface PlacementMember {
  name: string;
  store: BlobStore;
}

export interface PlacementBlobStoreOptions {
  stores: PlacementMember[];
  /** Copies of every blob (R), from 1 to the number of stores. */
  replicas: number;
  /**
   * Milliseconds a store has to answer a read — a head, or a get/getStream up to the moment
   * the blob is open (file opened, response headers in) — before the next store is asked as
   * well; the slow one keeps its chance and whichever holder answers first wins. A read fails
   * for silence only after every store was asked and the silent ones had 5 times this long.
   * Default 2 000.
   */
  readTimeoutMs?: number;
  /**
   * Milliseconds one store has to make one copy durable before it counts as down and the
   * next store in placement order takes the copy. Generous: a large pack takes a while.
   * Default 600 000.
   */
  writeTimeoutMs?: number;
  /**
   * Milliseconds a store that failed or timed out is tried after the others, so that a
   * store that is down costs one timeout, not one per read. Default 30 000.
   */
  suspectMs?: number;
}

type WriteOutcome = { kind: 'wrote' } | { kind: 'existed' } | { kind: 'failed' };

/** What decides where blobs go: every process that cleans up must share it. */
export interface PlacementLayout {
  /** The store names, sorted (their order in the configuration does not matter). */
  stores: string[];
  replicas: number;
}

/**
 * One BlobStore over N named stores, each blob on R of them.
 *
 * Placement: rendezvous hashing of the key over the store names gives every key an order of
 * the stores; its first R are the key's preferred stores. Every process that is configured
 * with the same names computes the same order, with no shared state.
 *
 * putIfAbsent: the first store in order that answers is the arbiter — its atomic
 * putIfAbsent decides whether this call wrote the blob, so that of concurrent writers
 * exactly one wins. Only the winner then writes the other R-1 copies, concurrently, reading
 * them back from the arbiter's copy: the caller's stream is read once, and every copy holds
 * the arbiter's bytes. (Writing all R at once from the caller's body would be faster, but two
 * racing writers of different bytes could then each win on a different store and leave
 * copies that disagree.) A store that fails or times out
 * is replaced by the next store in order, so R copies exist even while a preferred store is
 * down; `repair()` later moves copies back to the preferred stores. The call resolves only
 * when R copies are durable; when fewer than R stores accept the blob, the copies this call
 * made are deleted and it rejects, so that a retry starts afresh rather than finding the key
 * present with too few copies. The blob is readable from the arbiter's copy before the other
 * copies are done (callers publish a key only after putIfAbsent resolves).
 *
 * Reads ask the stores in placement order (the preferred ones first, then any that may hold
 * a copy written while a preferred one was down), moving on when a store lacks the blob,
 * fails, or is silent for readTimeoutMs (hedging: the silent one may still answer first). A
 * blob is absent only if every store says so; otherwise the read rejects, because a store
 * that did not answer may hold the only copy.
 *
 * Stores that failed recently are tried last (for `suspectMs`), in reads and writes alike.
 */
export class PlacementBlobStore implements BlobStore, DirectReadUrls, DirectWriteUrls, BlobAges {
  readonly replicas: number;
  private readonly members: readonly PlacementMember[];
  private readonly names: readonly string[];
  private readonly readTimeoutMs: number;
  private readonly writeTimeoutMs: number;
  private readonly suspectMs: number;
  private readonly suspectUntil = new Map<string, number>();

  constructor(options: PlacementBlobStoreOptions) {
    const { stores, replicas } = options;
    if (stores.length === 0) throw new PlacementError('a placement needs at least one store');
    const names = stores.map((member) => member.name);
    const duplicate = names.find((name, index) => names.indexOf(name) !== index);
    if (duplicate !== undefined)
      throw new PlacementError(`store name ${JSON.stringify(duplicate)} is used twice; names decide placement and must be unique`);
    if (names.some((name) => name === '' || name.includes('\0')))
      throw new PlacementError('store names must be non-empty and contain no NUL');
    if (!Number.isSafeInteger(replicas) || replicas < 1 || replicas > stores.length) {
      throw new PlacementError(`replicas must be an integer from 1 to the number of stores (${stores.length}), got ${replicas}`);
    }
    this.members = [...stores];
    this.names = names;
    this.replicas = replicas;
    this.readTimeoutMs = options.readTimeoutMs ?? 2_000;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 600_000;
    this.suspectMs = options.suspectMs ?? 30_000;
  }

  /** The store names and R, which decide every key's preferred stores. */
  get layout(): PlacementLayout {
    return { stores: [...this.names].sort(), replicas: this.replicas };
  }

  /** How old preferred copies must be at least before cleanup may remove the copies elsewhere (see cleanupAgeFloorMs). */
  get cleanupAgeFloorMs(): number {
    return cleanupAgeFloorMs(this.members.length, this.writeTimeoutMs);
  }

  /** The store names in `key`'s placement order; the first `replicas` are its preferred stores. */
  placement(key: string): string[] {
    return rendezvousOrder(key, this.names).map((index) => this.names[index]);
  }

  async putIfAbsent(key: string, body: BlobBody): Promise<boolean> {
    validateBlobKey(key);
    const candidates = this.order(key);
    const failures: StoreFailure[] = [];
    const created: PlacementMember[] = [];
    const cursor = { next: 0 };
    let abandoned = false;
    const write = (member: PlacementMember, guarded: GuardedBody) =>
      this.writeCopy(member, key, guarded, failures, created, () => abandoned);

    try {
      const guarded = guardBody(key, body);
      let arbiter: PlacementMember | undefined;
      while (!arbiter && cursor.next < candidates.length) {
        const member = candidates[cursor.next++];
        const outcome = await write(member, guarded);
        if (outcome.kind === 'existed') return false;
        if (outcome.kind === 'wrote') arbiter = member;
      }
      if (!arbiter) throw placementFailure(`put of blob ${key}: no store accepted it`, failures);

      // The other copies are read back from the arbiter's (bytes in memory are simply reused):
      // the caller's stream is read once, and every copy has the arbiter's bytes. The arbiter
      // just answered, so opening its copy gets the write's allowance, not a read's.
      const size = Buffer.isBuffer(body) ? body.length : body.size;
      const copyBody = () => (Buffer.isBuffer(body) ? guardBody(key, body) : guardedCopy(arbiter, key, size, this.writeTimeoutMs));
      await this.fillReplicas(key, size, candidates, cursor, copyBody, write, failures);
      return true;
    } catch (error) {
      abandoned = true;
      await this.undo(key, created);
      throw error;
    }
  }

  /**
   * A direct write URL of the first store, in placement order, that can make one: the client's
   * bytes go to that store alone, and completeDirectWrite makes the other copies.
   */
  async directWriteUrl(key: string, content: DirectWriteContent, options: { expiresInSeconds: number }): Promise<DirectWrite | undefined> {
    validateBlobKey(key);
    for (const member of this.order(key)) {
      if (hasDirectWriteUrls(member.store)) return member.store.directWriteUrl(key, content, options);
    }
    return undefined;
  }

  /**
   * Checks the copy the client wrote (on whichever store took it: the order may have changed
   * since the URL was made) and then writes the other R-1 copies from it, streamed through this
   * process as repair() does, since the stores may share no endpoint that could copy between them.
   * Rejects, keeping the client's copy, when fewer than R copies can be made: a later call retries.
   */
  async completeDirectWrite(key: string, content: DirectWriteContent): Promise<DirectWriteOutcome> {
    validateBlobKey(key);
    const candidates = this.order(key);
    let holder: PlacementMember | undefined;
    const unanswered: StoreFailure[] = [];
    for (const member of candidates) {
      const store = member.store;
      if (!hasDirectWriteUrls(store)) continue;
      let outcome: DirectWriteOutcome;
      try {
        outcome = await withTimeout(store.completeDirectWrite(key, content), this.readTimeoutMs, `check of blob ${key} on ${member.name}`);
        this.answered(member);
      } catch (error) {
        this.failed(member);
        unanswered.push({ store: member.name, error });
        continue;
      }
      if (outcome === 'mismatch') return outcome;
      if (outcome === 'stored') {
        holder = member;
        break;
      }
    }
    // A store that did not answer may hold the client's copy: "missing" would make it upload again for nothing.
    if (!holder && unanswered.length > 0) {
      throw placementFailure(`check of directly written blob ${key} failed`, unanswered);
    }
    if (!holder) return 'missing';
    const source = holder;
    const others = candidates.filter((member) => member !== source);
    const failures: StoreFailure[] = [];
    const created: PlacementMember[] = [];
    const write = (member: PlacementMember, guarded: GuardedBody) => this.writeCopy(member, key, guarded, failures, created, () => false);
    try {
      const copyBody = () => guardedCopy(source, key, content.size, this.writeTimeoutMs);
      await this.fillReplicas(key, content.size, others, { next: 0 }, copyBody, write, failures);
      return 'stored';
    } catch (error) {
      await this.undo(key, created);
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Buffer | undefined> {
    validateBlobKey(key);
    if (range) validateByteRange(key, range);
    // Through getStream, so that the timeout covers the wait for the blob to open, not the
    // transfer of a large blob.
    const stream = await this.getStream(key, range);
    return stream && collect(key, stream);
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable | undefined> {
    validateBlobKey(key);
    if (range) validateByteRange(key, range);
    return hedgedRead(this.order(key), (member) => member.store.getStream(key, range), {
      ...this.readOutcomes,
      what: `read of blob ${key}`,
      discard: (late) => late.destroy(),
    });
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    validateBlobKey(key);
    return hedgedRead(this.order(key), (member) => member.store.head(key), { ...this.readOutcomes, what: `head of blob ${key}` });
  }

  /**
   * A direct read URL from the first store, in read order, that holds a copy and can make one;
   * undefined when no such store has the blob (copies only on stores without direct URLs, say).
   * A store that fails or stays silent past readTimeoutMs is passed over, as reads pass it over.
   */
  async directReadUrl(key: string, options: { expiresInSeconds: number }): Promise<string | undefined> {
    validateBlobKey(key);
    for (const member of this.order(key)) {
      const store = member.store;
      if (!hasDirectReadUrls(store)) continue;
      try {
        const url = await withTimeout(store.directReadUrl(key, options), this.readTimeoutMs, `direct read URL of ${key} on ${member.name}`);
        this.answered(member);
        if (url !== undefined) return url;
      } catch {
        this.failed(member);
      }
    }
    return undefined;
  }

  /**
   * When the newest copy of `key` was written. Undefined when no copy is found, and also when a
   * store cannot tell or does not answer: a copy there may be newer, so nothing may take the blob
   * for old on the word of the others.
   */
  async writtenAt(key: string): Promise<number | undefined> {
    validateBlobKey(key);
    const times = await Promise.allSettled(
      this.members.map((member) =>
        hasBlobAges(member.store)
          ? withTimeout(member.store.writtenAt(key), this.readTimeoutMs, `write time of ${key} on ${member.name}`)
          : Promise.reject(new Error(`store ${member.name} cannot tell when its blobs were written`)),
      ),
    );
    let newest: number | undefined;
    for (const time of times) {
      if (time.status === 'rejected') return undefined;
      if (time.value !== undefined) newest = Math.max(newest ?? time.value, time.value);
    }
    return newest;
  }

  /** The union of every store's listing, each key once, in key order. Rejects if a store cannot list. */
  async *list(prefix: string): AsyncIterable<BlobInfo> {
    validateBlobPrefix(prefix);
    const listings = this.members.map((member) => withStoreName(member.name, member.store.list(prefix)));
    for await (const entry of mergeListings(listings)) yield { key: entry.key, size: entry.copies[0].size };
  }

  /** Deletes every copy; rejects (after trying all) if a store could not delete its copy. */
  async delete(key: string): Promise<void> {
    validateBlobKey(key);
    const results = await Promise.allSettled(this.members.map((member) => member.store.delete(key)));
    const failures = results.flatMap((result, index) =>
      result.status === 'rejected' ? [{ store: this.names[index], error: result.reason as unknown }] : [],
    );
    if (failures.length > 0) throw placementFailure(`delete of blob ${key} failed on ${failures.length} store(s)`, failures);
  }

  async close(): Promise<void> {
    const results = await Promise.allSettled(this.members.map((member) => member.store.close()));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Makes sure every blob of any store (under `prefix`) has a copy on each of its preferred
   * stores, copying from a store that has it and checking the copy's size. Copies on other
   * stores are left in place. See RepairReport for what it counts.
   */
  repair(options: RepairOptions = {}): Promise<RepairReport> {
    return repairPlacement(
      this.members,
      this.replicas,
      { readTimeoutMs: this.readTimeoutMs, writeTimeoutMs: this.writeTimeoutMs },
      options,
    );
  }

  /**
   * Deletes the copies of blobs (under `prefix`) on stores outside their preferred stores, where
   * every preferred store holds a verified copy older than any write that could still undo it;
   * see cleanupPlacement for the safety argument and CleanupReport for what it counts.
   */
  cleanup(options: CleanupOptions = {}): Promise<CleanupReport> {
    return cleanupPlacement(
      this.members,
      this.replicas,
      { readTimeoutMs: this.readTimeoutMs, writeTimeoutMs: this.writeTimeoutMs },
      options,
    );
  }

  /**
   * Deletes the copies a failed write made, each within writeTimeoutMs: cleanup's age floor counts
   * on a write's run, undo included, being bounded.
   */
  private async undo(key: string, created: readonly PlacementMember[]): Promise<void> {
    await Promise.allSettled(
      created.map((member) =>
        withTimeout(member.store.delete(key), this.writeTimeoutMs, `undoing the copy of blob ${key} on store ${member.name}`),
      ),
    );
  }

  /** Placement order, with stores that failed recently moved to the end. */
  private order(key: string): PlacementMember[] {
    const now = Date.now();
    const ordered = rendezvousOrder(key, this.names).map((index) => this.members[index]);
    const isSuspect = (member: PlacementMember) => (this.suspectUntil.get(member.name) ?? 0) > now;
    return [...ordered.filter((member) => !isSuspect(member)), ...ordered.filter(isSuspect)];
  }

  private answered(member: PlacementMember): void {
    this.suspectUntil.delete(member.name);
  }

  private failed(member: PlacementMember): void {
    this.suspectUntil.set(member.name, Date.now() + this.suspectMs);
  }

  private get readOutcomes() {
    return {
      hedgeAfterMs: this.readTimeoutMs,
      answered: (member: PlacementMember) => this.answered(member),
      failed: (member: PlacementMember) => this.failed(member),
    };
  }

  /**
   * Writes R-1 more copies of `key`, each slot taking the next unused store of `candidates`
   * until one holds a copy; rejects when fewer than R copies exist in all.
   */
  private async fillReplicas(
    key: string,
    size: number,
    candidates: readonly PlacementMember[],
    cursor: { next: number },
    copyBody: () => GuardedBody,
    write: (member: PlacementMember, guarded: GuardedBody) => Promise<WriteOutcome>,
    failures: StoreFailure[],
  ): Promise<void> {
    const fillSlot = async (): Promise<boolean> => {
      while (cursor.next < candidates.length) {
        const member = candidates[cursor.next++];
        const outcome = await write(member, copyBody());
        if (outcome.kind === 'wrote') return true;
        if (outcome.kind === 'existed' && (await this.holdsCopyOfSize(member, key, size))) return true;
        if (outcome.kind === 'existed') failures.push({ store: member.name, error: new Error('holds a different blob under this key') });
      }
      return false;
    };
    const slots = await Promise.allSettled(Array.from({ length: this.replicas - 1 }, fillSlot));
    const rejected = slots.find((slot) => slot.status === 'rejected');
    if (rejected) throw rejected.reason;
    const copies = 1 + slots.filter((slot) => slot.status === 'fulfilled' && slot.value).length;
    if (copies < this.replicas) {
      throw placementFailure(`put of blob ${key}: only ${copies} of ${this.replicas} copies could be made`, failures);
    }
  }

  /**
   * Writes one copy; a store failure is recorded and reported as 'failed', a body failure
   * (the caller's stream, or the arbiter's copy being read back) rethrown: no other store
   * would fare better.
   */
  private async writeCopy(
    member: PlacementMember,
    key: string,
    guarded: GuardedBody,
    failures: StoreFailure[],
    created: PlacementMember[],
    abandoned: () => boolean,
  ): Promise<WriteOutcome> {
    const what = `put of blob ${key} on store ${member.name}`;
    try {
      // A write that completes after its deadline is undone once this put has given up;
      // if the put succeeded without it, the late copy is a harmless extra one.
      const wrote = await withTimeout(member.store.putIfAbsent(key, guarded.body), this.writeTimeoutMs, what, (lateWrote) => {
        if (lateWrote && abandoned()) member.store.delete(key).catch(() => undefined);
      });
      this.answered(member);
      if (!wrote) return { kind: 'existed' };
      created.push(member);
      return { kind: 'wrote' };
    } catch (error) {
      const bodyFailure = guarded.failure();
      if (bodyFailure) throw bodyFailure;
      this.failed(member);
      failures.push({ store: member.name, error });
      return { kind: 'failed' };
    }
  }

  private async holdsCopyOfSize(member: PlacementMember, key: string, size: number): Promise<boolean> {
    const info = await withTimeout(member.store.head(key), this.readTimeoutMs, `head of blob ${key} on store ${member.name}`).catch(
      () => undefined,
    );
    return info?.size === size;
  }
}

async function* withStoreName(name: string, listing: AsyncIterable<BlobInfo>): AsyncGenerator<BlobInfo> {
  try {
    yield* listing;
  } catch (error) {
    throw new PlacementError(`listing of store ${name} failed: ${message(error)}`, { cause: error });
  }
}

async function collect(key: string, stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  } catch (error) {
    throw new PlacementError(`read of blob ${key} failed after ${chunks.reduce((n, c) => n + c.length, 0)} bytes: ${message(error)}`, {
      cause: error,
    });
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}
