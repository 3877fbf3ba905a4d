import { ZERO_OID, type ObjectId, type ObjectType } from '@gitfleet/git-format';
import { isOutOfSpace } from '@gitfleet/storage';
import { isValidRefName, LoopPacer, TransactionOutcomeUnknown, type RefUpdateConflict, type Repository } from '@gitfleet/repository';
import type { PushCommand } from './commands.js';
import type { ResponseWriter } from './response.js';
import type { AppliedRefUpdate } from './options.js';

/** A command on its way through receive-pack; `error` is what report-status says for it. */
export interface CommandState extends PushCommand {
  error?: string;
  /** Deleting a ref that does not exist: reported ok, nothing to change (git warns and does the same). */
  noop?: boolean;
}

/** git's reason strings, which clients print as "! [remote rejected] … (reason)". */
export const REASON = {
  unpackerError: 'unpacker error',
  missingObjects: 'missing necessary objects',
  shallow: 'shallow update not allowed',
  funnyRefname: 'funny refname',
  refNameTooLong: 'ref name too long',
  deleteCurrent: 'deletion of the current branch prohibited',
  failedToUpdate: 'failed to update ref',
  atomicPushFailure: 'atomic push failure',
  atomicTransactionFailed: 'atomic transaction failed',
  migrateFailed: 'unable to migrate objects to permanent storage',
  /** Not git's: a store of the server is full (disk or quota); nothing was changed. */
  storageFull: 'no storage space left on the server',
  /** Not git's: the refs moved in the KV store but are not known durable (their journal entry unwritten, or too few Redis replicas acknowledged them). */
  unknownOutcome: 'outcome unknown: the ref may have moved but the update is not durable; fetch to see',
} as const;

/** What a client is told when a store is full: the store's own message names paths and keys, and goes to the server's log. */
export const NO_SPACE_MESSAGE = 'the server has no storage space left for this push; nothing was changed';

const isDelete = (command: PushCommand) => command.newOid === ZERO_OID;
const pending = (commands: readonly CommandState[]) => commands.filter((c) => c.error === undefined);

/**
 * The checks git's update() makes before touching a ref: names under refs/ that git accepts
 * (a new ref needs two levels, as in refs/heads/x), one command per ref, no deleting the
 * branch HEAD points at (git's receive.denyDeleteCurrent default, GitHub's rule too). Like
 * hosting services, a ref name longer than `maxRefNameBytes` is refused, except to delete it.
 */
export async function checkCommands(
  repo: Repository,
  commands: readonly CommandState[],
  maxRefNameBytes: number,
  out: ResponseWriter,
): Promise<void> {
  const head = await repo.refs.head();
  const seen = new Set<string>();
  for (const command of pending(commands)) {
    const { name } = command;
    const nameBytes = Buffer.byteLength(name, 'utf8');
    if (!isDelete(command) && nameBytes > maxRefNameBytes) {
      out.error(`refusing ref '${name.slice(0, 100)}…': its name is ${nameBytes} bytes, longer than the ${maxRefNameBytes} allowed`);
      command.error = REASON.refNameTooLong;
    } else if (!isValidRefName(name) || (!isDelete(command) && !name.slice('refs/'.length).includes('/'))) {
      out.error(`refusing to update funny ref '${name}' remotely`);
      command.error = REASON.funnyRefname;
    } else if (seen.has(name)) {
      out.error(`multiple updates for ref '${name}' not allowed`);
      command.error = REASON.failedToUpdate;
    } else if (isDelete(command) && name === head) {
      out.error(`refusing to delete the current branch: ${name}`);
      command.error = REASON.deleteCurrent;
    }
    seen.add(name);
  }
  const pacer = new LoopPacer();
  for (const command of pending(commands).filter(isDelete)) {
    await pacer.step();
    if ((await repo.refs.get(command.name)) === undefined) {
      out.warning(`deleting a non-existent ref ${command.name}`);
      command.noop = true;
    }
  }
}

/**
 * What git's ref backend refuses when it writes: a branch (refs/heads/*) must name a commit.
 * `typeOf` answers for ids in the new pack or the repository. Like every failure at commit
 * time, under `atomic` it fails the whole push.
 */
export async function checkBranchTips(
  commands: readonly CommandState[],
  atomic: boolean,
  typeOf: (oid: ObjectId) => Promise<ObjectType | undefined>,
  out: ResponseWriter,
): Promise<void> {
  const refused: CommandState[] = [];
  const pacer = new LoopPacer();
  for (const command of pending(commands)) {
    if (isDelete(command) || !command.name.startsWith('refs/heads/')) continue;
    await pacer.step();
    if ((await typeOf(command.newOid)) === 'commit') continue;
    out.error(`trying to write non-commit object ${command.newOid} to branch '${command.name}'`);
    refused.push(command);
  }
  failAtCommit(commands, refused, atomic);
}

/**
 * Failures met while committing ref changes: "failed to update ref" for those refs, or under
 * `atomic` git's "atomic transaction failed" for every command.
 */
function failAtCommit(commands: readonly CommandState[], refused: readonly CommandState[], atomic: boolean): void {
  if (refused.length === 0) return;
  if (atomic) {
    for (const command of commands) command.error ??= REASON.atomicTransactionFailed;
    for (const command of refused) command.error = REASON.atomicTransactionFailed;
  } else {
    for (const command of refused) command.error = REASON.failedToUpdate;
  }
}

/** Under `atomic`, one failure fails every command, with git's reason for the phase it happened in. */
export function failAllIfAny(commands: readonly CommandState[], reason: string): boolean {
  if (commands.every((c) => c.error === undefined)) return false;
  for (const command of commands) command.error ??= reason;
  return true;
}

/** The commands still to apply (deletes of absent refs need no change). */
export function refUpdatesToApply(commands: readonly CommandState[]): CommandState[] {
  return pending(commands).filter((c) => !c.noop);
}

/** What the ref journal records of a push besides its updates. */
export interface PushJournalFacts {
  reflogMessage: string;
  /** See RefUpdateOptions.fence. */
  fence?: string;
  actor?: string;
  /** The push's pack, when it sent one. */
  packs?: readonly string[];
}

/**
 * The one compare-and-swap of the push, each update's reflog entry written with it, and its
 * journal entry written after it (RefDB.update resolves only then). A ref that moved since the
 * client read it keeps its value, and a new ref whose name clashes with another's (`a` beside
 * `a/b`) is not created; both are reported "failed to update ref" with git's message (under
 * `atomic`, every ref fails). An update applied but not journaled is never reported "ok": every
 * command gets the unknown-outcome reason.
 * @returns the updates that were applied (none when the outcome is unknown).
 */
export async function applyRefUpdates(
  repo: Repository,
  commands: readonly CommandState[],
  atomic: boolean,
  out: ResponseWriter,
  facts: PushJournalFacts = { reflogMessage: 'push' },
): Promise<AppliedRefUpdate[]> {
  const updates = refUpdatesToApply(commands);
  if (updates.length === 0) return [];
  let conflicts: RefUpdateConflict[];
  try {
    conflicts = await repo.refs.update(
      updates.map(({ name, oldOid, newOid }) => ({ name, oldOid, newOid })),
      { atomic, message: facts.reflogMessage, fence: facts.fence, actor: facts.actor, packs: facts.packs },
    );
  } catch (error) {
    // First: a journal entry that could not be written for want of space follows a ref change.
    if (error instanceof TransactionOutcomeUnknown) {
      out.error(error.message);
      for (const command of updates) command.error = REASON.unknownOutcome;
      return [];
    }
    if (!isOutOfSpace(error)) throw error;
    out.error(`updating refs: ${NO_SPACE_MESSAGE}`);
    for (const command of updates) command.error = REASON.storageFull;
    return [];
  }
  const byName = new Map(updates.map((update) => [update.name, update]));
  for (const conflict of conflicts) out.error(`cannot lock ref '${conflict.name}': ${whyNot(conflict, byName)}`);
  const refused = new Set(conflicts.map((conflict) => conflict.name));
  failAtCommit(
    commands,
    updates.filter((command) => refused.has(command.name)),
    atomic,
  );
  return updates.filter((c) => c.error === undefined).map(({ name, oldOid, newOid }) => ({ name, oldOid, newOid }));
}

/** git's wording (refs.c, refs_verify_refname_available) of why a ref could not be locked. */
function whyNot(conflict: RefUpdateConflict, updates: ReadonlyMap<string, PushCommand>): string {
  const { name, other } = conflict;
  if (conflict.kind === 'fenced') return 'the push took too long: its webhook events were settled as not applied; try again';
  if (conflict.kind === 'moved') {
    const oldOid = updates.get(name)?.oldOid;
    return oldOid === ZERO_OID ? 'reference already exists' : `it is no longer at ${oldOid}`;
  }
  if (!other) return `another ref's name is its directory or lies under it; cannot create '${name}'`;
  if (other.inBatch) return `cannot process '${name}' and '${other.name}' at the same time`;
  return `'${other.name}' exists; cannot create '${name}'`;
}
