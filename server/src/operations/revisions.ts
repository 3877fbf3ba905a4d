/**
 * Resolving a revision, for every surface: `browse` holds the one implementation (git's
 * rev-parse rules for a revision, GitHub's for a URL's "<revision>/<path>").
 */
export { resolveRevision, resolveRevisionPath, type RevisionPath } from '@gitfleet/browse';
