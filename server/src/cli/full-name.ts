import { validateRepositoryName } from '@gitfleet/repository';
import { usageError } from './errors.js';

/** `owner/name` as the commands take a repository (a trailing `.git` is allowed, as in clone URLs). */
export function parseFullName(fullName: string): { owner: string; name: string } {
  const slash = fullName.indexOf('/');
  if (slash < 0) throw usageError(`expected <owner>/<name>, got ${JSON.stringify(fullName)}`);
  const owner = fullName.slice(0, slash);
  const name = fullName.slice(slash + 1).replace(/\.git$/, '');
  validateRepositoryName(owner, name);
  return { owner, name };
}
