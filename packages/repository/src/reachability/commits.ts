import {
  commitTreeAndParents,
  CorruptSidecarError,
  parseTag,
  type CommitGraph,
  type CommitGraphEntry,
  type ObjectId,
  type ObjectType,
} from '@gitfleet/git-format';
import { MissingObjectError } from '../errors.js';
import type { ObjectReader } from '../object-reader.js';

export interface CommitInfo {
  tree: ObjectId;
  parents: readonly ObjectId[];
  /** Committer time, seconds since the epoch. */
  time: number;
  /**
   * Topological level (generation number v1) when the commit-graph has the commit: higher than
   * every ancestor's. Undefined for a commit read from a pack.
   */
  generation?: number;
}

/**
 * Process-wide memo of parsed commits and peeled tags. Objects are immutable and named by
 * their content, so an entry never goes stale; entries are kept per repository (an id
 * proves nothing about another repository's contents) and the oldest repositories'
 * entries are dropped once the total passes the bound.
 */
class ImmutableFactCache<V> {
  private readonly scopes = new Map<string, Map<ObjectId, V>>();
  private total = 0;

  constructor(private readonly maxEntries: number) {}

  scope(key: string): Map<ObjectId, V> {
    let scope = this.scopes.get(key);
    if (scope) {
      // Re-insert to keep the most recently used repository last.
      this.scopes.delete(key);
      this.scopes.set(key, scope);
      return scope;
    }
    scope = new Map();
    this.scopes.set(key, scope);
    return scope;
  }

  noteAdded(current: Map<ObjectId, V>): void {
    this.total++;
    if (this.total <= this.maxEntries) return;
    for (const [key, scope] of this.scopes) {
      if (this.total <= this.maxEntries) break;
      if (scope === current) {
        // The scope being filled is the only one left: restart it rather than grow without bound.
        if (this.scopes.size === 1) {
          this.total -= scope.size;
          scope.clear();
        }
        continue;
      }
      this.total -= scope.size;
      this.scopes.delete(key);
    }
  }
}

const commitFacts = new ImmutableFactCache<CommitInfo>(1_000_000);
const peelFacts = new ImmutableFactCache<Peeled>(200_000);

/** Where a repository's commit-graph comes from (PackAccess): loaded once per CommitReader, when a commit is first read. */
export interface CommitGraphSource {
  commitGraph(): Promise<CommitGraph | undefined>;
}

/**
 * Reads commits (through the process-wide memo, then the repository's commit-graph, then the
 * packs) and peels tags for the walks of one repository. `cacheKey` names the repository;
 * without it nothing is shared.
 */
export class CommitReader {
  private readonly commits: Map<ObjectId, CommitInfo>;
  private readonly peeled: Map<ObjectId, Peeled>;
  private graph: Promise<CommitGraph | undefined> | undefined;

  constructor(
    readonly objects: ObjectReader,
    cacheKey?: string,
    private readonly graphSource?: CommitGraphSource,
  ) {
    this.commits = cacheKey === undefined ? new Map<ObjectId, CommitInfo>() : commitFacts.scope(cacheKey);
    this.peeled = cacheKey === undefined ? new Map<ObjectId, Peeled>() : peelFacts.scope(cacheKey);
  }

  /** The commit, or undefined when `oid` is absent or not a commit. */
  async tryCommit(oid: ObjectId): Promise<CommitInfo | undefined> {
    const known = this.commits.get(oid);
    if (known) return known;
    // The graph answers without inflating or parsing anything; it is not copied into the memo.
    if (this.graphSource) {
      const entry = graphEntry(await this.loadGraph(), oid);
      // 0 is git's "not computed" of graphs written before generation numbers.
      if (entry) return { tree: entry.tree, parents: entry.parents, time: entry.commitTime, generation: entry.generation || undefined };
    }
    const object = await this.objects.read(oid);
    if (!object || object.type !== 'commit') return undefined;
    const { tree, parents, committerTime } = commitTreeAndParents(object.data);
    const info: CommitInfo = { tree, parents, time: committerTime };
    this.commits.set(oid, info);
    commitFacts.noteAdded(this.commits);
    return info;
  }

  async commit(oid: ObjectId, context: string): Promise<CommitInfo> {
    const info = await this.tryCommit(oid);
    if (!info) throw new MissingObjectError(oid, context);
    return info;
  }

  /**
   * Follows tags down to the first object that is not a tag. Returns undefined when
   * `oid` is absent; `chain` lists the tag objects passed through (outermost first).
   */
  async peel(oid: ObjectId): Promise<Peeled | undefined> {
    const known = this.peeled.get(oid);
    if (known) return known;
    if (this.commits.has(oid)) return { oid, type: 'commit', chain: [] };
    const chain: ObjectId[] = [];
    let current = oid;
    for (;;) {
      // A commit in the graph is known without reading the pack (most refs are branch tips);
      // else the header alone tells a branch tip from a tag, without inflating the commit.
      const header = (await this.graphHas(current)) ? { type: 'commit' as const } : await this.objects.header(current);
      if (!header) {
        if (chain.length === 0) return undefined;
        throw new MissingObjectError(current, `target of tag ${chain[chain.length - 1]}`);
      }
      if (header.type !== 'tag') {
        const result: Peeled = { oid: current, type: header.type, chain };
        this.peeled.set(oid, result);
        peelFacts.noteAdded(this.peeled);
        return result;
      }
      const object = await this.objects.read(current);
      if (!object) throw new MissingObjectError(current, `tag${chain.length ? ` in the chain of ${oid}` : ''}`);
      chain.push(current);
      if (chain.length > 64) throw new Error(`tag chain from ${oid} is deeper than 64`);
      current = parseTag(object.data).object;
    }
  }

  private loadGraph(): Promise<CommitGraph | undefined> {
    return (this.graph ??= this.graphSource?.commitGraph() ?? Promise.resolve(undefined));
  }

  /** Whether the graph holds `oid`: a lookup of the id alone, no entry built. */
  private async graphHas(oid: ObjectId): Promise<boolean> {
    return this.graphSource !== undefined && (await this.loadGraph())?.positionOf(oid) !== undefined;
  }
}

/** The graph's entry for `oid`; none when the graph turns out corrupt there (its parse checks its structure, not every parent). */
function graphEntry(graph: CommitGraph | undefined, oid: ObjectId): CommitGraphEntry | undefined {
  try {
    return graph?.lookup(oid);
  } catch (error) {
    if (error instanceof CorruptSidecarError) return undefined;
    throw error;
  }
}

export interface Peeled {
  oid: ObjectId;
  type: ObjectType;
  /** Tag objects passed through, outermost first; empty when `oid` was not a tag. */
  chain: ObjectId[];
}
