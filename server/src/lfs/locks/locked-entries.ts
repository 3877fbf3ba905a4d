/**
 * The tree entries at a set of paths (the locked ones), looked up in many root trees (every
 * commit of a push): the paths share one walk, so a directory on the way to many locked paths
 * is read once per tree, not once per path; an answer is kept per (directory of the paths, tree
 * id), so a subtree that commits share is read once for all of them; and a tree is read only
 * until the names wanted in it have all been found.
 */
import { FileMode, fileModeText, type ObjectId } from '@gitfleet/git-format';
import { treeEntries, type LoopPacer, type Repository } from '@gitfleet/repository';

/** A directory of the paths: the names wanted in it, and the path that ends at each, if one does. */
interface PathNode {
  /** The path that ends here (a locked file, or a locked directory with locked paths below). */
  path?: string;
  children: Map<string, PathNode>;
  /** Path → "mode oid" found below this node, per tree id it was looked up in. */
  found: Map<ObjectId, ReadonlyMap<string, string>>;
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
      let node = this.root;
      for (const part of path.split('/')) {
        let child = node.children.get(part);
        if (!child) node.children.set(part, (child = newNode()));
        node = child;
      }
      node.path = path;
    }
  }

  /** The entry ("mode oid") of each of the paths present below the root tree `tree`. */
  in(tree: ObjectId): Promise<ReadonlyMap<string, string>> {
    return this.below(this.root, tree);
  }

  private async below(node: PathNode, tree: ObjectId): Promise<ReadonlyMap<string, string>> {
    const known = node.found.get(tree);
    if (known) return known;
    const matches: Array<{ child: PathNode; mode: number; oid: ObjectId }> = [];
    for await (const entry of treeEntries(this.repo, tree, 'entries at locked paths', this.pacer)) {
      const child = node.children.get(entry.name);
      if (child) matches.push({ child, mode: entry.mode, oid: entry.oid });
      // Names are unique in a tree: once each wanted one is found, the rest is not read.
      if (matches.length === node.children.size) break;
    }
    const result = new Map<string, string>();
    for (const { child, mode, oid } of matches) {
      if (child.path !== undefined) result.set(child.path, `${fileModeText(mode)} ${oid}`);
      if (child.children.size > 0 && mode === FileMode.Dir)
        for (const [path, entry] of await this.below(child, oid)) result.set(path, entry);
    }
    node.found.set(tree, result);
    return result;
  }
}

function newNode(): PathNode {
  return { children: new Map(), found: new Map() };
}
