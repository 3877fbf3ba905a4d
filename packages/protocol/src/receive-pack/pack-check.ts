import { open } from 'node:fs/promises';
import {
  ExpansionBudget,
  FsckError,
  ObjectRejected,
  PackFormatError,
  PackInMemory,
  PackIndex,
  checkGitmodules,
  indexPack,
  objectTypeOfCode,
  readPackedObject,
  type ObjectId,
  type ObjectType,
  type PackLimits,
  type ParallelPassOptions,
} from '@gitfleet/git-format';
import type { OidSet } from '@gitfleet/repository';
import { BadObject, PushObjectChecks, type PushCheckFindings, type PushCheckInit } from './push-object-checks.js';
import { checkLinkedType, type TypedLinks } from './typed-links.js';

/**
 * The CPU-heavy half of a push: index the spooled pack (inflate, resolve deltas, hash, write the
 * idx), fsck every object, and work out which ids the pack refers to without holding them. It
 * runs on a worker thread (index-worker.ts), or on the event loop for a pack within a small
 * work cap (index-pool.ts).
 */
export interface PackCheckTask {
  /** The spooled pack, or one held in memory (checked on the event loop only). */
  pack: string | PackInMemory;
  maxObjectSize: number;
  limits: PackLimits;
  /** New ref tips of the push: their types are reported. */
  tips: ObjectId[];
  /** Commits the client declared shallow. */
  shallow: ObjectId[];
}

/** The few objects of the repository a check needs: a thin pack's bases, a .gitmodules blob the push names but does not carry. */
export interface RepositoryObjects {
  read(oid: ObjectId): Promise<{ type: ObjectType; data: Buffer } | undefined>;
}

/** How one check runs: where its progress goes, and what bounds where it runs. */
export interface PackCheckRun {
  onProgress?(phase: 'receiving' | 'resolving', done: number, total: number): void;
  /** Resolving deltas on several threads (a worker thread's run). */
  parallel?: ParallelPassOptions;
  /** IndexPackOptions.workCap: IndexWorkCapReached past it, before anything is written. */
  workCap?: number;
}

export type IndexOutcome =
  | {
      ok: true;
      checksum: ObjectId;
      objectCount: number;
      appendedBases: number;
      idx: Uint8Array;
      packSize: number;
      inflatedBytes: number;
      tipTypes: [ObjectId, ObjectType][];
      /** 20-byte ids the pack's objects point to that the pack does not hold, sorted: the repository must. */
      outsideLinks: Uint8Array;
      /** The types expected of each outside link (TypedLinks masks): the repository's objects must have them. */
      outsideLinkTypes: Uint8Array;
      /** Parents of client-shallow commits that the pack does not hold. */
      outsideShallowParents: ObjectId[];
      /** Each entry's object type code, in pack order. */
      typeCodes: Uint8Array;
    }
  /** A pack to refuse; `reason` goes to the client. */
  | { ok: false; reason: string };

/** Indexes and checks the pack; a pack to refuse is an outcome, not an error. */
export async function checkPack(task: PackCheckTask, repository: RepositoryObjects, run: PackCheckRun): Promise<IndexOutcome> {
  try {
    return await indexAndCheck(task, repository, run);
  } catch (error) {
    // BadObject from this thread, ObjectRejected as it comes back from a helper thread.
    if (error instanceof PackFormatError || error instanceof ObjectRejected) return { ok: false, reason: error.message };
    throw error;
  }
}

async function indexAndCheck(task: PackCheckTask, repository: RepositoryObjects, run: PackCheckRun): Promise<IndexOutcome> {
  const init: PushCheckInit = { tips: task.tips, shallow: task.shallow };
  const checks = new PushObjectChecks(init);
  const pack = await indexPack(task.pack, {
    resolveExternal: (oid) => repository.read(oid),
    onObject: checks.onObject,
    maxObjectSize: task.maxObjectSize,
    limits: task.limits,
    onProgress: run.onProgress,
    parallel: run.parallel,
    workCap: run.workCap,
  });
  for (const found of pack.sinkResults) checks.merge(found as PushCheckFindings);
  const index = PackIndex.parse(pack.idx, pack.packSize);
  // Reading blobs back is more expansion of the same pack: it counts against the same limits.
  const budget = new ExpansionBudget(task.limits, pack.packSize, pack.inflatedBytes);
  await checkRemainingGitmodules(task.pack, index, budget, checks.gitmodules, checks.gitmodulesChecked, repository);

  const outside = checkLinksIntoPack(checks.links, index, pack.typeCodes);
  return {
    ok: true,
    checksum: pack.checksum,
    objectCount: pack.objectCount,
    appendedBases: pack.appendedBases,
    idx: pack.idx,
    packSize: pack.packSize,
    inflatedBytes: pack.inflatedBytes,
    tipTypes: [...new Map(checks.tipTypes)].sort(([a], [b]) => (a < b ? -1 : 1)),
    outsideLinks: outside.ids,
    outsideLinkTypes: outside.expected,
    outsideShallowParents: [...checks.shallowParents].filter((oid) => index.find(oid) === undefined).sort(),
    // A copy: in a parallel pass the column lives in memory shared with the resolving threads.
    typeCodes: pack.typeCodes.slice(),
  };
}

/**
 * Every link to an object of the pack must name it as the type it has; the links to objects the
 * pack does not hold are returned, sorted (the order objects were checked in depends on the
 * threads that resolved them), for the repository to hold with the types they expect.
 */
function checkLinksIntoPack(links: TypedLinks, index: PackIndex, typeCodes: Uint8Array): { ids: Uint8Array; expected: Uint8Array } {
  const outside: number[] = [];
  for (let entry = 0; entry < links.size; entry++) {
    const oid = links.oidAt(entry);
    const offset = index.find(oid);
    if (offset === undefined) outside.push(entry);
    else checkLinkedType(oid, links.expectedAt(entry), objectTypeOfCode(typeCodes[index.positionInPackOrder(offset)]) as ObjectType);
  }
  outside.sort((a, b) => Buffer.compare(links.bytesAt(a), links.bytesAt(b)));
  const ids = new Uint8Array(20 * outside.length);
  const expected = new Uint8Array(outside.length);
  outside.forEach((entry, i) => {
    ids.set(links.bytesAt(entry), 20 * i);
    expected[i] = links.expectedAt(entry);
  });
  return { ids, expected };
}

/**
 * git's fsck_finish: a .gitmodules blob whose tree came before it, or that the push only names,
 * is read back (from the pack, else from the repository) and checked; one found nowhere is
 * gitmodulesMissing, one that is no blob gitmodulesBlob.
 */
async function checkRemainingGitmodules(
  pack: string | PackInMemory,
  index: PackIndex,
  budget: ExpansionBudget,
  gitmodules: OidSet,
  checked: ReadonlySet<ObjectId>,
  repository: RepositoryObjects,
): Promise<void> {
  const pending = [...gitmodules].filter((oid) => !checked.has(oid));
  if (pending.length === 0) return;
  const file = pack instanceof PackInMemory ? pack : await open(pack, 'r');
  try {
    for (const oid of pending) {
      const object = (await readPackedObject(file, index, oid, budget)) ?? (await readFromRepository(repository, oid, budget));
      try {
        if (object === undefined) throw new FsckError('gitmodulesMissing', 'unable to read .gitmodules blob');
        if (object.type !== 'blob') throw new FsckError('gitmodulesBlob', 'non-blob found at .gitmodules');
        checkGitmodules(object.data);
      } catch (error) {
        if (error instanceof FsckError) throw new BadObject(oid, error);
        throw error;
      }
    }
  } finally {
    if (!(file instanceof PackInMemory)) await file.close();
  }
}

/** A blob the push names but the repository holds is read on the main thread: its size counts too, so that a push cannot have many read. */
async function readFromRepository(repository: RepositoryObjects, oid: ObjectId, budget: ExpansionBudget) {
  const object = await repository.read(oid);
  if (object !== undefined) budget.charge(object.data.length);
  return object;
}
