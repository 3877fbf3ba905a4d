/**
 * The tree entries at a set of paths (the locked ones), looked up in many root trees (every
 * commit of a push): the paths share one walk, so a directory on the way to many locked paths
 * is read once per tree, not once per path; and an answer is kept per (directory of the paths,
 * tree id), so a subtree that commits share is read once for all of them.
 *
 * Names are matched folded (foldLockPath), as a case-insensitive client's checkout sees them: a
 * lock on "art/hero.psd" covers a tree's "Art/Hero.psd", and a tree may hold several spellings
 * of one folded path, so a tree on the way is read whole and an answer names every spelling.
 */
import { FileMode, fileModeText, type ObjectId } from '@gitfleet/git-format';
import { foldLockPath, treeEntries, type LoopPacer, type Repository } from '@gitfleet/repository';

/** A directory of the paths: the folded names wanted in it, and the folded path that ends at each, if one does. */
interface PathNode {
  /** The folded path that ends here (a locked file, or a locked directory with locked paths below). */
  path?: string;
  children: Map<string, PathNode>;
  /** Folded path → "name mode oid" of each spelling found below this node (names relative to it), per tree id. */
  found: Map<ObjectId, ReadonlyMap<string, readonly string[]>>;
}

export class LockedEntries {
  private readonly root: PathNode = newNode();

  constructor(
    private readonly repo: Repository,
    paths: readonly string[],
    /** Shared with the walk over the push's commits: the lookups of one push give the event loop its turns together. */
    private readonly pacer: LoopPacer,
  ) {
    for (const path of paths) {
      const folded = foldLockPath(path);
      let node = this.root;
      for (const part of folded.split('/')) {
        let child = node.children.get(part);
        if (!child) node.children.set(part, (child = newNode()));
        node = child;
      }
      node.path = folded;
    }
  }

  /**
   * What is at each of the paths below the root tree `tree`, keyed by the folded path: one
   * string naming every spelling present with its mode and id, equal between two trees exactly
   * when nothing at the path changed. Paths absent from the tree are absent from the map.
   */
  async in(tree: ObjectId): Promise<ReadonlyMap<string, string>> {
    const result = new Map<string, string>();
    for (const [path, entries] of await this.below(this.root, tree)) result.set(path, [...entries].sort().join('\n'));
    return result;
  }

  private async below(node: PathNode, tree: ObjectId): Promise<ReadonlyMap<string, readonly string[]>> {
    const known = node.found.get(tree);
    if (known) return known;
    const matches: Array<{ child: PathNode; name: string; mode: number; oid: ObjectId }> = [];
    for await (const entry of treeEntries(this.repo, tree, 'entries at locked paths', this.pacer)) {
      const child = node.children.get(foldLockPath(entry.name));
      if (child) matches.push({ child, name: entry.name, mode: entry.mode, oid: entry.oid });
    }
    const result = new Map<string, string[]>();
    const add = (path: string, entry: string) => {
      const entries = result.get(path);
      if (entries) entries.push(entry);
      else result.set(path, [entry]);
    };
    for (const { child, name, mode, oid } of matches) {
      if (child.path !== undefined) add(child.path, `${name} ${fileModeText(mode)} ${oid}`);
      if (child.children.size > 0 && mode === FileMode.Dir)
        for (const [path, entries] of await this.below(child, oid)) for (const entry of entries) add(path, `${name}/${entry}`);
    }
    node.found.set(tree, result);
    return result;
  }
}

function newNode(): PathNode {
  return { children: new Map(), found: new Map() };
}
