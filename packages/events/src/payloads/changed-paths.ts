import type { ObjectId } from '@gitfleet/git-format';
import { diffTrees, LoopPacer, TreeEntryBudget, TreeTooDeep, type Repository } from '@gitfleet/repository';

export interface ChangedPaths {
  added: string[];
  removed: string[];
  modified: string[];
}

/** How much of a push its payloads describe (GitHub lists at most 20 commits per push event). */
export interface PayloadLimits {
  /**
   * Paths listed per commit, its three lists together: GitHub's commit API lists at most 3,000
   * files of a commit, and a payload naming every file of a 100,000-file import would be
   * megabytes that no consumer reads.
   */
  maxFilesPerCommit: number;
  /**
   * Tree entries read to list the files of every commit of one push: a commit of two huge trees
   * costs as much to diff when it changes one file as when it changes them all.
   */
  maxTreeEntries: number;
  /**
   * Bytes of the paths listed over every commit of one push: git does not bound a path's
   * length, and thousands of paths of kilobytes each would make a payload of hundreds of
   * megabytes (GitHub does not deliver payloads over 25 MB).
   */
  maxPathBytes: number;
}

/**
 * The files each commit of one push added, removed and modified, as `git diff-tree -r
 * --name-status` without rename detection lists them (a rename is a removal plus an addition,
 * a file turned into a directory is a removal plus additions), in git's order. Bounded as
 * PayloadLimits says: a commit's lists stop at the first `maxFilesPerCommit` paths, and once the
 * push's `maxTreeEntries` are read or its `maxPathBytes` listed, the lists of the commits still
 * to describe are cut short (empty, when nothing is left); they also stop at directories
 * nested deeper than git walks. The same pair of trees is diffed once per push.
 */
export class PushFileLists {
  private readonly budget: TreeEntryBudget;
  /** One for the push: many small diffs add up to as long a hold of the event loop as a large one. */
  private readonly pacer = new LoopPacer();
  private readonly known = new Map<string, Promise<ChangedPaths>>();
  private pathBytesLeft: number;

  constructor(
    private readonly repo: Repository,
    private readonly limits: PayloadLimits,
  ) {
    this.budget = new TreeEntryBudget(limits.maxTreeEntries);
    this.pathBytesLeft = limits.maxPathBytes;
  }

  /** `before` undefined means the empty tree (a root commit). */
  between(before: ObjectId | undefined, after: ObjectId): Promise<ChangedPaths> {
    const key = `${before ?? ''}:${after}`;
    let lists = this.known.get(key);
    if (!lists) {
      lists = this.diff(before, after);
      this.known.set(key, lists);
    }
    return lists;
  }

  private async diff(before: ObjectId | undefined, after: ObjectId): Promise<ChangedPaths> {
    const lists: ChangedPaths = { added: [], removed: [], modified: [] };
    const changes = diffTrees(this.repo, before, after, { budget: this.budget, pacer: this.pacer });
    try {
      // Stops at the cap: the rest of the trees is never read.
      for (let listed = 0; listed < this.limits.maxFilesPerCommit; listed++) {
        const next = await changes.next();
        if (next.done) break;
        const pathBytes = Buffer.byteLength(next.value.path);
        if (pathBytes > this.pathBytesLeft) {
          this.pathBytesLeft = 0;
          break;
        }
        this.pathBytesLeft -= pathBytes;
        lists[next.value.status].push(next.value.path);
      }
    } catch (error) {
      // Nested deeper than git itself walks: the lists stop there, as at the cap.
      if (!(error instanceof TreeTooDeep)) throw error;
    } finally {
      await changes.return();
    }
    return lists;
  }
}
