import type { ObjectId } from '@gitfleet/git-format';
import { computeShallowUpdate, DeepenError, LoopPacer, unreachableCommits } from '@gitfleet/repository';
import type { CommitReader, ShallowUpdate } from '@gitfleet/repository';
import { ProtocolError } from '../errors.js';
import { expandRef } from './refs.js';
import type { RefSnapshot } from './refs.js';

/** The shallow-related lines of a fetch request, as received. */
export interface ShallowArgs {
  /** "shallow <id>": the client's current shallow commits. */
  shallows: ObjectId[];
  /** "deepen <n>". */
  depth?: number;
  /** "deepen-since <time>". */
  since?: number;
  /** "deepen-not <ref>", as written by the client. */
  deepenNot: string[];
  deepenRelative: boolean;
}

export function emptyShallowArgs(): ShallowArgs {
  return { shallows: [], deepenNot: [], deepenRelative: false };
}

/** Parses one shallow-related line into `args`; false when the line is something else. */
export function parseShallowLine(line: string, args: ShallowArgs): boolean {
  let m = /^shallow ([0-9a-f]{40})$/.exec(line);
  if (m) {
    args.shallows.push(m[1]);
    return true;
  }
  if (line.startsWith('shallow ')) throw new ProtocolError(`invalid shallow line: ${line}`);
  m = /^deepen (.*)$/.exec(line);
  if (m) {
    const depth = /^\d+$/.test(m[1]) ? Number(m[1]) : NaN;
    if (!(depth > 0 && depth <= 0x7fffffff)) throw new ProtocolError(`Invalid deepen: ${line}`);
    args.depth = depth;
    return true;
  }
  m = /^deepen-since (.*)$/.exec(line);
  if (m) {
    const since = /^\d+$/.test(m[1]) ? Number(m[1]) : NaN;
    if (!(since > 0 && Number.isSafeInteger(since))) throw new ProtocolError(`Invalid deepen-since: ${line}`);
    args.since = since;
    return true;
  }
  m = /^deepen-not (.+)$/.exec(line);
  if (m) {
    args.deepenNot.push(m[1]);
    return true;
  }
  return false;
}

export function isDeepening(args: ShallowArgs): boolean {
  return args.depth !== undefined || args.since !== undefined || args.deepenNot.length > 0;
}

/**
 * Resolves the client's shallow state and deepen request against the repository:
 * the shallow/unshallow lines to send and the boundaries for the pack walk.
 */
export async function resolveShallow(
  reader: CommitReader,
  snapshot: RefSnapshot,
  tips: readonly ObjectId[],
  wants: readonly ObjectId[],
  args: ShallowArgs,
): Promise<ShallowUpdate> {
  const pacer = new LoopPacer();
  const clientShallows: ObjectId[] = [];
  for (const oid of new Set(args.shallows)) {
    await pacer.step();
    const header = await reader.objects.header(oid);
    // A shallow commit we do not have is of no use to us (git ignores it too).
    if (!header) continue;
    if (header.type !== 'commit') throw new ProtocolError(`invalid shallow object ${oid}`);
    clientShallows.push(oid);
  }
  if (args.depth !== undefined && (args.since !== undefined || args.deepenNot.length > 0)) {
    throw new ProtocolError('git upload-pack: deepen and deepen-since (or deepen-not) cannot be used together');
  }
  const not: ObjectId[] = [];
  for (const name of new Set(args.deepenNot)) {
    await pacer.step();
    const ref = expandRef(snapshot, name);
    if (!ref) throw new ProtocolError(`git upload-pack: ambiguous deepen-not: deepen-not ${name}`);
    const peeled = await reader.peel(ref.oid);
    if (peeled?.type === 'commit') not.push(peeled.oid);
  }
  const wantCommits: ObjectId[] = [];
  for (const want of wants) {
    await pacer.step();
    const peeled = await reader.peel(want);
    if (peeled?.type === 'commit') wantCommits.push(peeled.oid);
  }
  let reachableClientShallows: ObjectId[] | undefined;
  if (args.deepenRelative && args.depth !== undefined) {
    const unreachable = new Set(await unreachableCommits(reader, clientShallows, tips));
    reachableClientShallows = clientShallows.filter((oid) => !unreachable.has(oid));
  }
  try {
    return await computeShallowUpdate(reader, {
      wants: wantCommits,
      clientShallows,
      depth: args.depth,
      relative: args.deepenRelative,
      since: args.since,
      not,
      reachableClientShallows,
    });
  } catch (error) {
    if (error instanceof DeepenError) throw new ProtocolError(error.message);
    throw error;
  }
}
