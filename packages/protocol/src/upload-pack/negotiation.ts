import type { ObjectId } from '@gitfleet/git-format';
import { LoopPacer } from '@gitfleet/repository';
import type { CommitReader } from '@gitfleet/repository';

/**
 * What the client's "have" lines taught us (upload-pack.c got_oid, do_got_oid,
 * ok_to_give_up): the common objects, and whether every want already reaches one, so
 * the client can stop negotiating.
 */
export class Negotiation {
  /** Commits the client has: each common have and its parents (git's THEY_HAVE). */
  private readonly theyHave = new Set<ObjectId>();
  /** Common haves, each once, in the order received (git's have_obj). */
  readonly common: ObjectId[] = [];
  private oldestHave = 0;
  /**
   * The lowest generation of the commits the client has, while every one of them has a known
   * generation (null once one has none): a commit at or below it has none of them among its
   * ancestors (git's min_generation in can_all_from_reach_with_flag).
   */
  private lowestGeneration: number | null | undefined;
  private readonly wantsKnownReached = new Set<ObjectId>();
  private readonly pacer = new LoopPacer();
  /**
   * okToGiveUp's last answer while no have has been found common since: it depends only on
   * what the client has. (v0 asks after each unknown have; a walk each time would make a
   * request of many unknown haves cost haves × history.)
   */
  private lastGiveUp: boolean | undefined;

  constructor(
    private readonly reader: CommitReader,
    private readonly wants: readonly ObjectId[],
  ) {}

  /** Records one "have"; false when we do not have the object. */
  async have(oid: ObjectId): Promise<boolean> {
    await this.pacer.step();
    const header = await this.reader.objects.header(oid);
    if (!header) return false;
    this.lastGiveUp = undefined;
    if (header.type === 'commit') {
      const commit = await this.reader.commit(oid, 'have');
      const knewIt = this.theyHave.has(oid);
      this.theyHave.add(oid);
      if (this.oldestHave === 0 || commit.time < this.oldestHave) this.oldestHave = commit.time;
      this.noteGeneration(commit.generation);
      for (const parent of commit.parents) {
        // A parent is read only while generations can still prune: once one is unknown, none is needed.
        if (this.lowestGeneration !== null && !this.theyHave.has(parent))
          this.noteGeneration((await this.reader.tryCommit(parent))?.generation);
        this.theyHave.add(parent);
      }
      if (knewIt) return true;
    }
    this.common.push(oid);
    return true;
  }

  /** Whether each want reaches a commit the client has (git's can_all_from_reach_with_flag). */
  async okToGiveUp(): Promise<boolean> {
    this.lastGiveUp ??= await this.allWantsReachTheirs();
    return this.lastGiveUp;
  }

  private async allWantsReachTheirs(): Promise<boolean> {
    if (this.common.length === 0) return false;
    for (const want of this.wants) {
      await this.pacer.step();
      if (this.wantsKnownReached.has(want)) continue;
      const peeled = await this.reader.peel(want);
      if (peeled && peeled.type === 'commit' && !(await this.reachesTheirs(peeled.oid))) return false;
      this.wantsKnownReached.add(want);
    }
    return true;
  }

  private noteGeneration(generation: number | undefined): void {
    if (this.lowestGeneration === null) return;
    if (generation === undefined) this.lowestGeneration = null;
    else if (this.lowestGeneration === undefined || generation < this.lowestGeneration) this.lowestGeneration = generation;
  }

  /** Depth-first from `start` through parents, not below the oldest have's date nor at or below the lowest have's generation. */
  private async reachesTheirs(start: ObjectId): Promise<boolean> {
    const visited = new Set<ObjectId>([start]);
    const stack = [start];
    while (stack.length > 0) {
      await this.pacer.step();
      const oid = stack.pop()!;
      if (this.theyHave.has(oid)) return true;
      const commit = await this.reader.commit(oid, 'ancestor of a want');
      if (commit.time < this.oldestHave) continue;
      if (this.lowestGeneration && commit.generation !== undefined && commit.generation <= this.lowestGeneration) continue;
      for (const parent of commit.parents) {
        if (visited.has(parent)) continue;
        visited.add(parent);
        stack.push(parent);
      }
    }
    return false;
  }
}
