import { FileMode, type ObjectId } from '@gitfleet/git-format';
import type { Repository } from '../repository.js';
import { LoopPacer } from '../loop-pacer.js';
import { treeEntryBatches, type StreamedTreeEntry } from './tree-entries.js';

/** One changed non-directory entry between two trees. */
export interface TreeDiffEntry {
  path: string;
  status: 'added' | 'removed' | 'modified';
  oldOid?: ObjectId;
  newOid?: ObjectId;
  /** Git's modes as numbers (0o100644, 0o160000…). */
  oldMode?: number;
  newMode?: number;
}

/**
 * Tree entries that walks may read, shared by the walks it bounds together (e.g. every commit
 * of one push): the cost of a diff is the entries it reads, not the changes it finds, since
 * two huge trees may differ in one file.
 */
export class TreeEntryBudget {
  private spent = false;

  constructor(private remaining: number) {}

  /** Whether a walk was cut short for want of entries. */
  get exhausted(): boolean {
    return this.spent;
  }

  take(): boolean {
    if (this.remaining <= 0) this.spent = true;
    else this.remaining--;
    return !this.spent;
  }
}

class BudgetSpent extends Error {}

/**
 * How deep a diff follows directories: git's core.maxTreeDepth default, past which git's own
 * traversals and fsck refuse a tree.
 */
export const MAX_TREE_DEPTH = 4096;

export class TreeTooDeep extends Error {
  override name = 'TreeTooDeep';
}

/**
 * Entries that differ between two trees, recursively, in git's order, as `git diff-tree -r`
 * lists them without rename detection (a file turned directory is a removal plus additions).
 * Both trees are streamed side by side, so a tree of millions of entries is never held whole
 * and the event loop gets a turn every few milliseconds (over every walk sharing `pacer`);
 * subtrees with equal ids are never read. A consumer that has seen enough stops iterating,
 * and nothing more is read; with a `budget`, the walk ends early once it is spent (see
 * TreeEntryBudget.exhausted). Directories deeper than MAX_TREE_DEPTH throw TreeTooDeep.
 * `before` undefined is the empty tree (a root commit).
 */
export async function* diffTrees(
  repo: Repository,
  before: ObjectId | undefined,
  after: ObjectId,
  options: { budget?: TreeEntryBudget; pacer?: LoopPacer } = {},
): AsyncGenerator<TreeDiffEntry, void> {
  const { budget, pacer = new LoopPacer() } = options;
  if (budget?.exhausted) return;

  const open = (prefix: string, oldTree: ObjectId | undefined, newTree: ObjectId | undefined): Directory => {
    const context = `diff of ${prefix || '/'}`;
    const cursor = (tree: ObjectId | undefined) =>
      new EntryCursor(tree === undefined ? undefined : treeEntryBatches(repo, tree, context, pacer), budget);
    return { prefix, olds: cursor(oldTree), news: cursor(newTree) };
  };

  // The directories being compared, outermost first: a loop over them rather than recursion,
  // so that a change found deep down costs no more to hand over than one at the top.
  const opened: Directory[] = [open('', before, after)];
  try {
    while (opened.length > 0) {
      const { prefix, olds, news } = opened[opened.length - 1];
      // Only an emptied batch costs an await: entries are compared at the speed of a loop.
      if (olds.drained) await olds.fill();
      if (news.drained) await news.fill();
      const oldEntry = olds.peek();
      const newEntry = news.peek();
      if (!oldEntry && !newEntry) {
        opened.pop();
        await Promise.all([olds.close(), news.close()]);
        continue;
      }
      const order = !oldEntry ? 1 : !newEntry ? -1 : compareTreeOrder(oldEntry, newEntry);
      const old = order <= 0 ? olds.take() : undefined;
      const added = order >= 0 ? news.take() : undefined;
      if (old && added && old.oid === added.oid && old.mode === added.mode) continue;
      const path = prefix + (old ?? added)!.name;
      // A directory and a file never pair up: their names sort apart ("a" < "a/").
      if (old?.mode === FileMode.Dir || added?.mode === FileMode.Dir) {
        if (opened.length >= MAX_TREE_DEPTH)
          throw new TreeTooDeep(`diff of ${path.slice(0, 200)}…: directories nested deeper than ${MAX_TREE_DEPTH}`);
        opened.push(open(`${path}/`, old?.oid, added?.oid));
        continue;
      }
      const oldFile = old ? { oldOid: old.oid, oldMode: old.mode } : undefined;
      const newFile = added ? { newOid: added.oid, newMode: added.mode } : undefined;
      if (oldFile && newFile) yield { path, status: 'modified', ...oldFile, ...newFile };
      else if (oldFile) yield { path, status: 'removed', ...oldFile };
      else yield { path, status: 'added', ...newFile };
    }
  } catch (error) {
    if (!(error instanceof BudgetSpent)) throw error;
  } finally {
    // Thousands may be open when the walk is cut short deep down: closing them is paced too.
    for (const { olds, news } of opened.reverse()) {
      await Promise.all([olds.close(), news.close()]);
      await pacer.step();
    }
  }
}

interface Directory {
  /** Its path with a "/" after it ("" for the root). */
  prefix: string;
  olds: EntryCursor;
  news: EntryCursor;
}

/** One side of a walk: the entries of a tree (none for an absent one), a batch at a time. */
class EntryCursor {
  private batch: StreamedTreeEntry[] = [];
  private at = 0;
  private ended: boolean;

  constructor(
    private readonly batches: AsyncGenerator<StreamedTreeEntry[]> | undefined,
    private readonly budget: TreeEntryBudget | undefined,
  ) {
    this.ended = batches === undefined;
  }

  /** Whether the batch is used up while the tree has more. */
  get drained(): boolean {
    return !this.ended && this.at === this.batch.length;
  }

  async fill(): Promise<void> {
    const next = await this.batches!.next();
    if (next.done) this.ended = true;
    else {
      this.batch = next.value;
      this.at = 0;
    }
  }

  /** The next entry, undefined at the end (call fill first when drained). */
  peek(): StreamedTreeEntry | undefined {
    return this.at < this.batch.length ? this.batch[this.at] : undefined;
  }

  take(): StreamedTreeEntry {
    if (this.budget && !this.budget.take()) throw new BudgetSpent();
    return this.batch[this.at++];
  }

  async close(): Promise<void> {
    await this.batches?.return(undefined);
  }
}

/** Where UTF-16 code unit order (JavaScript's) and UTF-8 byte order (git's) part ways. */
const ORDERS_DIFFER = /[\uD800-\uFFFF]/;

/** git's tree order: names as bytes, a directory's with a "/" after it (so "a" < "a.b" < "a/"). */
function compareTreeOrder(a: StreamedTreeEntry, b: StreamedTreeEntry): number {
  const x = a.mode === FileMode.Dir ? `${a.name}/` : a.name;
  const y = b.mode === FileMode.Dir ? `${b.name}/` : b.name;
  if (x === y) return 0;
  if (ORDERS_DIFFER.test(x) || ORDERS_DIFFER.test(y)) return Buffer.compare(Buffer.from(x), Buffer.from(y));
  return x < y ? -1 : 1;
}
