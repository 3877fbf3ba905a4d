import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { encodeSideband, FLUSH_PKT, PktLineReader, SidebandChannel, ZERO_OID, type ObjectId, type ObjectType } from '@gitfleet/git-format';
import { LoopPacer } from '@gitfleet/repository';
import { isOutOfSpace } from '@gitfleet/storage';
import type { Repository } from '@gitfleet/repository';
import { isDeleteOnly, PushRequestRefused, readPushRequest, type PushRequest } from './commands.js';
import { sharedPackIndexPool } from './index-pool.js';
import { ingestPack, UnpackError, type IngestedPack } from './ingest.js';
import { adoptDefaultBranch } from './default-branch.js';
import { DeltaProgress } from './progress.js';
import { ResponseQueue, ResponseWriter } from './response.js';
import { PackTooLarge, RequestAborted, spoolPack } from './spool.js';
import {
  NO_SPACE_MESSAGE,
  REASON,
  applyRefUpdates,
  checkBranchTips,
  checkCommands,
  failAllIfAny,
  refUpdatesToApply,
  type CommandState,
} from './updates.js';
import type { PreparedRefUpdate, PushSummary, ReceivePackOptions } from './options.js';
import { DEFAULT_PACK_LIMITS } from './pack-limits.js';
import { fromBuffers } from '../upload-pack/pack-response.js';

/** Of a policy's reason in report-status: well within a pkt-line, long enough to name a path and who holds it. */
const MAX_REASON_LENGTH = 2000;

/**
 * Packs up to this size are received into memory, never written to a spool file: the pushes of
 * a commit or a few, which are most pushes. At most GITFLEET_MAX_PUSHES of them at once.
 */
const MEMORY_SPOOL_BYTES = 1 << 20;

/** git's default receive.keepAlive. */
const KEEPALIVE_MS = 5000;

/**
 * Serves one stateless-RPC receive-pack request. Resolves once the commands have been
 * parsed (rejects with ProtocolError otherwise, before any output) to the response:
 * progress while the pack is indexed, then report-status.
 */
export async function receivePack(repo: Repository, request: Readable, options: ReceivePackOptions): Promise<AsyncIterable<Buffer>> {
  const reader = new PktLineReader(request);
  let push: PushRequest;
  try {
    push = await readPushRequest(reader, options.limits);
  } catch (error) {
    // git shows a band-3 message as "remote error: …"; an HTTP 413 only as its status.
    if (error instanceof PushRequestRefused && error.sideband)
      return fromBuffers([encodeSideband(SidebandChannel.Error, Buffer.from(`${error.message}\n`)), FLUSH_PKT]);
    throw error;
  }
  if (push.commands.length === 0) return (async function* () {})();

  const queue = new ResponseQueue();
  const out = new ResponseWriter(queue, push.capabilities.sideband, push.capabilities.quiet);
  return (async function* () {
    const work = serve(repo, push, reader.rest(), options, out)
      .finally(() => out.stopKeepAlive())
      .then(
        () => queue.end(),
        (error: unknown) => {
          // With side-band the client can still be told (and the caller hears of it through
          // onError); otherwise the response itself must fail.
          if (options.onError && out.fatal('fatal: the push could not be completed (internal error)')) {
            options.onError(error);
            queue.end();
          } else {
            queue.end(error);
          }
        },
      );
    yield* queue;
    await work;
  })();
}

/** git's cmd_receive_pack after read_head_info: unpack, check, store, update refs, report. */
async function serve(
  repo: Repository,
  push: PushRequest,
  packBytes: AsyncIterable<Buffer>,
  options: ReceivePackOptions,
  out: ResponseWriter,
): Promise<void> {
  const commands: CommandState[] = push.commands.map((command) => ({ ...command }));
  const { atomic } = push.capabilities;
  let unpackError: string | undefined;
  let ingested: IngestedPack | undefined;
  try {
    if (!isDeleteOnly(commands)) {
      try {
        ingested = await receivePackFile(repo, push, packBytes, options, out);
      } catch (error) {
        const full = isOutOfSpace(error);
        if (!(full || error instanceof UnpackError || error instanceof PackTooLarge || error instanceof RequestAborted)) throw error;
        // The reason travels in one pkt-line of the report.
        unpackError = full ? NO_SPACE_MESSAGE : (error as Error).message.replace(/\s+/g, ' ');
        out.error(unpackError);
      }
    }
    out.startKeepAlive(KEEPALIVE_MS);

    if (unpackError !== undefined) {
      for (const command of commands) command.error = REASON.unpackerError;
    } else {
      await checkConnectivity(repo, commands, ingested, out);
      await checkCommands(repo, commands, options.limits.maxRefNameBytes, out);
      if (!(atomic && failAllIfAny(commands, REASON.atomicPushFailure))) {
        await checkBranchTips(commands, atomic, (oid) => objectType(repo, ingested, oid), out);
        const changesRefs = refUpdatesToApply(commands).length > 0;
        if (changesRefs && (!ingested || (await storePack(repo, ingested, commands, out)))) {
          await askPolicy(commands, atomic, ingested, options, out);
          if (refUpdatesToApply(commands).length > 0) await publish(repo, commands, push, ingested?.checksum, options, out);
        }
      }
    }
  } finally {
    await ingested?.pack.remove();
  }
  options.onReport?.(pushSummary(commands, unpackError, ingested));
  report(commands, unpackError, push, out);
}

function pushSummary(commands: readonly CommandState[], unpackError: string | undefined, ingested: IngestedPack | undefined): PushSummary {
  const rejected = commands.filter((c) => c.error !== undefined).length;
  return {
    // The bases appended to complete a thin pack were not sent.
    objects: ingested ? ingested.index.objectCount - ingested.appendedBases : 0,
    unpacked: unpackError === undefined,
    accepted: commands.length - rejected,
    rejected,
  };
}

/**
 * Receives the pack, then indexes and checks it, with "Resolving deltas" progress. The pack
 * indexed is the caller's to store and remove; one that fails is removed here.
 */
async function receivePackFile(
  repo: Repository,
  push: PushRequest,
  packBytes: AsyncIterable<Buffer>,
  options: ReceivePackOptions,
  out: ResponseWriter,
): Promise<IngestedPack> {
  const spoolPath = join(options.spoolDir, `receive-${randomUUID()}.pack`);
  const allowance = options.packAllowance;
  const limited = allowance && allowance.bytes < options.limits.maxPackBytes;
  const pack = await spoolPack(packBytes, spoolPath, limited ? allowance.bytes : options.limits.maxPackBytes, {
    reason: limited ? allowance.reason : undefined,
    memoryBytes: MEMORY_SPOOL_BYTES,
  });
  out.startKeepAlive(KEEPALIVE_MS);
  const progress = new DeltaProgress((text) => out.progress(text));
  const ingested = await ingestPack(repo.objects, pack, {
    maxObjectSize: options.limits.maxObjectSize,
    limits: options.packLimits ?? DEFAULT_PACK_LIMITS,
    pool: options.indexPool ?? sharedPackIndexPool(),
    tips: new Set(push.commands.map((c) => c.newOid).filter((oid) => oid !== ZERO_OID)),
    shallow: new Set(push.shallow),
    onProgress: (phase, done, total) => {
      if (phase === 'resolving') progress.update(done, total);
    },
  }).catch(async (error: unknown) => {
    await pack.remove();
    throw error;
  });
  progress.finish(ingested.appendedBases);
  return ingested;
}

/**
 * Every new tip must exist, and everything the pack's objects point to must be in the pack
 * or the repository. A client-shallow commit whose parents are absent would need shallow
 * roots, which we do not keep (git's receive.shallowUpdate=false): such a push is refused
 * whole, because storing its pack would put a commit without its history in the repository.
 */
async function checkConnectivity(
  repo: Repository,
  commands: CommandState[],
  ingested: IngestedPack | undefined,
  out: ResponseWriter,
): Promise<void> {
  const updates = commands.filter((c) => c.newOid !== ZERO_OID);
  if (ingested && ingested.missingShallowParents.length > 0) {
    out.error(`shallow update not allowed: the history before ${ingested.missingShallowParents[0]} is missing`);
    for (const command of updates) command.error = REASON.shallow;
    return;
  }
  if (ingested && ingested.missing.length > 0) {
    out.error(`the pack refers to objects that are missing, e.g. ${ingested.missing.slice(0, 3).join(', ')}`);
    for (const command of updates) command.error = REASON.missingObjects;
    return;
  }
  const pacer = new LoopPacer();
  for (const command of updates) {
    await pacer.step();
    if (ingested?.index.find(command.newOid) !== undefined || (await repo.objects.has(command.newOid))) continue;
    out.error(`${command.name}: object ${command.newOid} was sent neither in the pack nor earlier`);
    command.error = REASON.missingObjects;
  }
}

async function objectType(repo: Repository, ingested: IngestedPack | undefined, oid: ObjectId): Promise<ObjectType | undefined> {
  return ingested?.tipTypes.get(oid) ?? (await repo.objects.header(oid))?.type;
}

/** Stores the pack and idx before any ref may point into them. */
async function storePack(repo: Repository, ingested: IngestedPack, commands: CommandState[], out: ResponseWriter): Promise<boolean> {
  try {
    await repo.packs.add(ingested.pack.stored, ingested.packSize, ingested.idx, ingested.checksum, ingested.typeCodes);
    return true;
  } catch (error) {
    const full = isOutOfSpace(error);
    out.error(`storing pack ${ingested.checksum}: ${full ? NO_SPACE_MESSAGE : (error as Error).message}`);
    for (const command of commands) command.error ??= full ? REASON.storageFull : REASON.migrateFailed;
    return false;
  }
}

/** Lets options.refuseUpdate refuse updates one by one, after the pack is stored so that it can read the new objects. */
async function askPolicy(
  commands: CommandState[],
  atomic: boolean,
  ingested: IngestedPack | undefined,
  options: ReceivePackOptions,
  out: ResponseWriter,
): Promise<void> {
  if (!options.refuseUpdate) return;
  const asked = refUpdatesToApply(commands);
  const pushed = {
    received: (oid: ObjectId) => ingested?.index.find(oid) !== undefined,
    updates: asked.map(({ name, oldOid, newOid }) => ({ name, oldOid, newOid })),
  };
  for (const command of asked) {
    const reason = await options.refuseUpdate({ name: command.name, oldOid: command.oldOid, newOid: command.newOid }, pushed);
    if (reason === undefined) continue;
    out.error(`${command.name}: ${reason}`);
    // The reason travels in one pkt-line of the report.
    command.error = reason.replace(/\s+/g, ' ').trim().slice(0, MAX_REASON_LENGTH) || 'refused by the server';
  }
  if (atomic) failAllIfAny(commands, REASON.atomicPushFailure);
}

/** Tells the caller what is about to change, moves the refs in one compare-and-swap, then tells it what changed. */
async function publish(
  repo: Repository,
  commands: CommandState[],
  push: PushRequest,
  packChecksum: string | undefined,
  options: ReceivePackOptions,
  out: ResponseWriter,
): Promise<void> {
  let prepared: PreparedRefUpdate | void = undefined;
  if (options.beforeRefUpdate) {
    const updates = refUpdatesToApply(commands);
    try {
      prepared = await options.beforeRefUpdate(
        updates.map(({ name, oldOid, newOid }) => ({ name, oldOid, newOid })),
        push.pushOptions,
      );
    } catch (error) {
      // Nothing has moved yet: the push fails rather than succeed unrecorded.
      const reason = (error as Error).message.replace(/\s+/g, ' ').trim() || 'refused before updating refs';
      out.error(`before updating refs: ${reason}`);
      for (const command of updates) command.error = reason;
      return;
    }
  }
  const applied = await applyRefUpdates(repo, commands, push.capabilities.atomic, out, {
    reflogMessage: prepared?.reflogMessage ?? 'push',
    fence: prepared?.fence,
    actor: options.actor,
    packs: packChecksum === undefined ? undefined : [packChecksum],
  });
  // Before the listeners: what they read of the repository includes the default it now has.
  try {
    await adoptDefaultBranch(repo, applied);
  } catch (error) {
    out.warning(`setting the default branch: ${(error as Error).message}`);
  }
  // The refs have moved (or not): the push's outcome stands whatever a listener thinks of it.
  await tellListener(() => prepared?.afterRefUpdate?.(applied), out);
  if (applied.length > 0) await tellListener(() => options.onRefsUpdated?.(applied, push.pushOptions), out);
}

async function tellListener(call: () => Promise<void> | undefined, out: ResponseWriter): Promise<void> {
  try {
    await call();
  } catch (error) {
    out.warning(`after updating refs: ${(error as Error).message}`);
  }
}

function report(commands: readonly CommandState[], unpackError: string | undefined, push: PushRequest, out: ResponseWriter): void {
  const { reportStatus, reportStatusV2 } = push.capabilities;
  if (reportStatus || reportStatusV2) {
    out.report([
      `unpack ${unpackError ?? 'ok'}`,
      ...commands.map((c) => (c.error === undefined ? `ok ${c.name}` : `ng ${c.name} ${c.error}`)),
    ]);
  }
  out.finish();
}
