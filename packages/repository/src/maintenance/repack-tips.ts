import type { ObjectId } from '@gitfleet/git-format';
import type { Ref } from '../ref-db.js';

/** The ref tips a full repack starts from, in the two layers it writes a pack for. */
export interface RepackTips {
  /** What a clone fetches (git clone asks for refs/heads/ and refs/tags/; HEAD names a branch). */
  clone: readonly ObjectId[];
  /** The tips of every other ref (pull requests, notes, review refs) that are not clone tips too. */
  rest: readonly ObjectId[];
}

const CLONE_REF_PREFIXES = ['refs/heads/', 'refs/tags/'];

/**
 * Splits the refs as GitHub's delta islands and JGit's GC_REST pack do, so that the pack of what
 * a clone fetches holds nothing else: a repository with thousands of pull-request refs would
 * otherwise fill it with their history, and no clone would take the pack as it is stored (as a
 * packfile URI, or verbatim). A repository without a branch or tag has one layer of all its refs.
 */
export function repackTips(refs: readonly Ref[]): RepackTips {
  const clone = new Set<ObjectId>();
  for (const ref of refs) if (CLONE_REF_PREFIXES.some((prefix) => ref.name.startsWith(prefix))) clone.add(ref.oid);
  const all = new Set(refs.map((ref) => ref.oid));
  if (clone.size === 0) return { clone: [...all], rest: [] };
  return { clone: [...clone], rest: [...all].filter((oid) => !clone.has(oid)) };
}
