/**
 * Reachability walks for serving fetches: which objects to send (wants minus haves,
 * shallow boundaries, filters), where to cut a shallow history, and whether an id a
 * client asks for is reachable from our refs.
 */
export { CommitReader } from './commits.js';
export type { CommitGraphSource, CommitInfo, Peeled } from './commits.js';
export { walkCommits } from './commit-walk.js';
export { DateQueue } from './date-queue.js';
export type { CommitWalk, CommitWalkRequest } from './commit-walk.js';
export { enumerateObjects } from './enumerate.js';
export type { Enumeration, EnumerationOptions, EnumerationRequest } from './enumeration.js';
export { FilterSpecError, filterPolicy, parseFilterSpec } from './filter.js';
export type { FilterPolicy, ObjectFilter } from './filter.js';
export { computeShallowUpdate, DeepenError, INFINITE_DEPTH } from './shallow.js';
export type { DeepenRequest, ShallowUpdate } from './shallow.js';
export { unreachableCommits } from './reachable.js';
