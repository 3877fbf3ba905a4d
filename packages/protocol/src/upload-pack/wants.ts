import type { ObjectId } from '@gitfleet/git-format';
import { LoopPacer, unreachableCommits } from '@gitfleet/repository';
import type { CommitReader } from '@gitfleet/repository';
import { RequestRefused } from '../errors.js';
import { tipCommits, tipIds } from './refs.js';
import type { RefSnapshot } from './refs.js';

/**
 * Refuses wants a client may not have (git's "not our ref"): ids we do not have, and
 * commits or tags that no ref reaches (allow-tip-sha1-in-want, allow-reachable-sha1-in-want).
 * Trees and blobs we have are served by id, as git's protocol v2 does, so that a partial
 * clone can fetch what it lazily needs without a walk of every tree.
 */
export async function checkWants(reader: CommitReader, snapshot: RefSnapshot, wants: readonly ObjectId[]): Promise<void> {
  const tips = tipIds(snapshot);
  const candidates: ObjectId[] = [];
  const asked = new Map<ObjectId, ObjectId>();
  const pacer = new LoopPacer();
  for (const want of wants) {
    await pacer.step();
    if (tips.has(want)) continue;
    const peeled = await reader.peel(want);
    if (!peeled) throw notOurRef(want);
    if (peeled.type !== 'commit') {
      if (peeled.chain.length > 0) throw notOurRef(want);
      continue;
    }
    candidates.push(peeled.oid);
    asked.set(peeled.oid, want);
  }
  const unreachable = await unreachableCommits(reader, candidates, tipCommits(snapshot));
  if (unreachable.length > 0) throw notOurRef(asked.get(unreachable[0])!);
}

function notOurRef(oid: ObjectId): RequestRefused {
  return new RequestRefused(`upload-pack: not our ref ${oid}`);
}
