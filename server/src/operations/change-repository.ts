/** Renaming a repository and changing its settings (description, visibility, default branch). */
import type { Repository, RepositoryRegistry } from '@gitfleet/repository';
import { BranchNotFound } from './errors.js';

export interface RepositoryChange {
  /** A new name under the same owner; its id, refs, packs and grants stay. */
  name?: string;
  description?: string;
  private?: boolean;
  /** A branch name without refs/heads/. */
  defaultBranch?: string;
}

/**
 * Which default branches may not exist yet. The API, as git init does, lets an empty
 * repository point HEAD anywhere (its first push creates the branch); the settings page lets a
 * form resubmit the branch HEAD already names.
 */
export type UnbornDefaultBranch = 'in-an-empty-repository' | 'when-unchanged';

/**
 * Applies `change`; undefined when the repository was deleted meanwhile. Throws BranchNotFound
 * for a default branch that does not exist (but see `unborn`), RepositoryExists for a name
 * already taken, InvalidRepositoryName for one not allowed.
 */
export async function changeRepository(
  registry: RepositoryRegistry,
  repo: Repository,
  change: RepositoryChange,
  unborn: UnbornDefaultBranch,
): Promise<Repository | undefined> {
  const head = change.defaultBranch === undefined ? undefined : `refs/heads/${change.defaultBranch}`;
  if (head !== undefined && !(await mayPointHeadAt(repo, head, unborn))) throw new BranchNotFound(change.defaultBranch!, repo.info);
  const updated = await registry.update(repo.info.owner, repo.info.name, {
    name: change.name,
    description: change.description,
    private: change.private,
  });
  if (updated && head !== undefined) await updated.refs.setHead(head);
  return updated;
}

async function mayPointHeadAt(repo: Repository, head: string, unborn: UnbornDefaultBranch): Promise<boolean> {
  if ((await repo.refs.get(head)) !== undefined) return true;
  if (unborn === 'when-unchanged') return (await repo.refs.head()) === head;
  return (await repo.refs.list('refs/heads/')).length === 0;
}
