import type { ObjectId } from '@gitfleet/git-format';
import type { Repository } from '../repository.js';
import { LoopPacer } from './loop-pacer.js';
import { TREE_MODE, treeEntryBatches, type StreamedTreeEntry } from './tree-entries.js';

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
 * Entries that differ between two trees, recursively, in git's order, as `git diff-tree -r`
 * lists them without rename detection (a file turned directory is a removal plus additions).
 * Both trees are streamed side by side, so a tree of millions of entries is never held whole
 * and the event loop gets a turn every few thousand entries (over every walk sharing `pacer`);
 * subtrees with equal ids are never read. A consumer that has seen enough stops iterating,
 * and nothing more is read; with a `budget`, the walk ends early once it is spent (see
 * TreeEntryBudget.exhausted). `before` undefined is the empty tree (a root commit).
 */
export async function* diffTrees(
  repo: Repository,
  before: ObjectId | undefined,
  after: ObjectId,
  options: { budget?: TreeEntryBudget; pacer?: LoopPacer } = {},
): AsyncGenerator<TreeDiffEntry, void> {
  const { budget, pacer = new LoopPacer() } = options;
  if (budget?.exhausted) return;

  const cursor = (tree: ObjectId | undefined, context: string) => new EntryCursor(tree === undefined ? undefined : treeEntryBatches(repo, tree, context, pacer), budget);

  async function* walk(prefix: string, oldTree: ObjectId | undefined, newTree: ObjectId | undefined): AsyncGenerator<TreeDiffEntry, void> {
    const context = `diff of ${prefix || '/'}`;
    const olds = cursor(oldTree, context);
    const news = cursor(newTree, context);
    try {
      for (;;) {
        // Only an emptied batch costs an await: entries are compared at the speed of a loop.
        if (olds.drained) await olds.fill();
        if (news.drained) await news.fill();
        const oldEntry = olds.peek();
        const newEntry = news.peek();
        if (!oldEntry && !newEntry) return;
        const order = !oldEntry ? 1 : !newEntry ? -1 : compareTreeOrder(oldEntry, newEntry);
        const old = order <= 0 ? olds.take() : undefined;
        const added = order >= 0 ? news.take() : undefined;
        if (old && added && old.oid === added.oid && old.mode === added.mode) continue;
        const path = prefix + (old ?? added)!.name;
        // A directory and a file never pair up: their names sort apart ("a" < "a/").
        if (old?.mode === TREE_MODE || added?.mode === TREE_MODE) {
          yield* walk(`${path}/`, old?.oid, added?.oid);
          continue;
        }
        const oldFile = old ? { oldOid: old.oid, oldMode: old.mode } : undefined;
        const newFile = added ? { newOid: added.oid, newMode: added.mode } : undefined;
        if (oldFile && newFile) yield { path, status: 'modified', ...oldFile, ...newFile };
        else if (oldFile) yield { path, status: 'removed', ...oldFile };
        else yield { path, status: 'added', ...newFile };
      }
    } finally {
      await Promise.all([olds.close(), news.close()]);
    }
  }

  try {
    yield* walk('', before, after);
  } catch (error) {
    if (!(error instanceof BudgetSpent)) throw error;
  }
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
  const x = a.mode === TREE_MODE ? `${a.name}/` : a.name;
  const y = b.mode === TREE_MODE ? `${b.name}/` : b.name;
  if (x === y) return 0;
  if (ORDERS_DIFFER.test(x) || ORDERS_DIFFER.test(y)) return Buffer.compare(Buffer.from(x), Buffer.from(y));
  return x < y ? -1 : 1;
}
