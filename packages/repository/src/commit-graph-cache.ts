import { CommitGraph } from '@gitfleet/git-format';
import { LoadedSidecarCache, sidecarLoader } from './sidecar-cache.js';

/** The sidecar of a repacked pack that is its commits' commit-graph (git's `objects/info/commit-graph`), stored as `<checksum>.graph`. */
export const COMMIT_GRAPH_SIDECAR = 'graph';

/**
 * What a loaded commit-graph costs, per object of its pack: about 60 bytes per commit, and
 * commits are a quarter of a typical history's objects.
 */
const BYTES_PER_OBJECT = 16;

/**
 * A pack's commit-graph, or undefined, after a warning, when it is missing or corrupt (parse
 * checks its checksum and structure): reads then parse commits.
 */
export const loadCommitGraph = sidecarLoader(COMMIT_GRAPH_SIDECAR, 'commit-graph', 'reading commits instead', (bytes) =>
  CommitGraph.parse(bytes),
);

/** Loaded commit-graphs by pack, shared by the repositories of a process. */
export class CommitGraphCache extends LoadedSidecarCache<CommitGraph> {
  constructor(maxBytes = 64 * 1024 * 1024) {
    super(maxBytes, BYTES_PER_OBJECT, loadCommitGraph);
  }
}

/** The commit-graph cache of stores that configure none. */
export const sharedCommitGraphCache = new CommitGraphCache();
