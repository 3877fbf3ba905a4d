import { ZERO_OID } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import type { AppliedRefUpdate } from './options.js';

/** The names a push that creates several branches gives the default to first, in this order. */
const PREFERRED_DEFAULTS = ['refs/heads/main', 'refs/heads/master'];

/**
 * A repository whose default branch does not exist (a new one, or one created with a default
 * name nobody pushed) takes a branch this push created as its default, as GitHub and Gitea
 * do, so that clones check it out. Of the branches the push created (tags do not count): the
 * current default name when it is one of them (nothing changes), else main, else master, else
 * the first in the push's command order. The switch is its own compare-and-swap after the
 * push's, made only while the default is still missing and the branch still exists: of two
 * first pushes at once, one sets the default and the other finds it born.
 */
export async function adoptDefaultBranch(repo: Repository, applied: readonly AppliedRefUpdate[]): Promise<void> {
  const created = applied
    .filter((update) => update.oldOid === ZERO_OID && update.newOid !== ZERO_OID && update.name.startsWith('refs/heads/'))
    .map((update) => update.name);
  if (created.length === 0) return;
  const head = await repo.refs.head();
  const choice = [head, ...PREFERRED_DEFAULTS].find((name) => created.includes(name)) ?? created[0];
  if (choice !== head) await repo.refs.setHeadIfUnborn(choice);
}
