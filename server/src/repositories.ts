import { InvalidRepositoryName, validateRepositoryName, type Repository, type RepositoryRegistry } from '@gitfleet/repository';
import { HttpError } from './http-errors.js';

/**
 * The repository a URL names ("name" or "name.git"), or HttpError 400 for a name that
 * is not allowed and 404 for one that does not exist. Express has already percent-decoded
 * the segments, so "%2e%2e" arrives here as ".." and is refused like it.
 */
export async function openRepository(registry: RepositoryRegistry, owner: string, nameInUrl: string): Promise<Repository> {
  const name = nameInUrl.endsWith('.git') ? nameInUrl.slice(0, -'.git'.length) : nameInUrl;
  checkName(owner, name);
  const repo = await registry.open(owner, name);
  if (!repo) throw new HttpError(404, `repository ${owner}/${name} not found`);
  return repo;
}

/** HttpError 400 with the validator's reason for a name that is not allowed. */
export function checkName(owner: string, name: string): void {
  try {
    validateRepositoryName(owner, name);
  } catch (error) {
    if (error instanceof InvalidRepositoryName) throw new HttpError(400, error.message);
    throw error;
  }
}

export function cloneUrl(baseUrl: string, owner: string, name: string): string {
  return `${baseUrl}/${encodeURIComponent(owner)}/${encodeURIComponent(name)}.git`;
}

/** The JSON shape of a repository in the REST API. */
export async function describeRepository(repo: Repository, baseUrl: string) {
  const head = await repo.refs.head();
  return {
    id: repo.info.id,
    owner: repo.info.owner,
    name: repo.info.name,
    full_name: `${repo.info.owner}/${repo.info.name}`,
    clone_url: cloneUrl(baseUrl, repo.info.owner, repo.info.name),
    default_branch: head.replace(/^refs\/heads\//, ''),
    created_at: repo.info.createdAt,
  };
}
