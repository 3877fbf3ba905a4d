/**
 * Repositories as the API shows them to one caller: only those the caller may read (a private
 * repository is never listed, never counted), each with the caller's permissions.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AccessLevel, Actor } from '@gitfleet/accounts';
import { isValidRefName, validateRepositoryName, type Repository, type RepositoryInfo } from '@gitfleet/repository';
import { createRepository } from '../operations/create-repository.js';
import { readableRepositories } from '../operations/readable-repositories.js';
import type { ServerServices } from '../services.js';
import { repositoryJson, type RepositoryJson } from './json.js';
import { paginateList, type PageRequest } from './pagination.js';

/** A branch name (without refs/heads/) that git accepts. */
export const branchName = z
  .string()
  .max(255)
  .refine((name) => isValidRefName(`refs/heads/${name}`), { message: 'not a valid branch name' });

/** A repository name the registry accepts (checked here so that a 422 names the field). */
export const repositoryName = z.string().superRefine((name, ctx) => {
  const problem = repositoryNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export async function ownerType(services: ServerServices, owner: string): Promise<'User' | 'Organization'> {
  return (await services.accounts.getOwner(owner))?.kind === 'org' ? 'Organization' : 'User';
}

/** One repository's JSON for a caller whose access is already known. */
export async function describeRepository(
  services: ServerServices,
  req: Request,
  repo: Repository,
  access: AccessLevel,
): Promise<RepositoryJson> {
  const [head, type] = await Promise.all([repo.refs.head(), ownerType(services, repo.info.owner)]);
  return repositoryJson({ info: repo.info, ownerType: type, head, access }, services.baseUrl(req));
}

/**
 * The page `page` of the repositories among `infos` that `actor` may read, described, with the
 * Link header. Access is decided for every candidate (so totals never count hidden ones); only
 * the page's repositories are opened.
 */
export async function readableRepositoryPage(
  services: ServerServices,
  req: Request,
  res: Response,
  actor: Actor | undefined,
  infos: readonly RepositoryInfo[],
  page: PageRequest,
): Promise<RepositoryJson[]> {
  return describedRepositoryPage(services, req, res, await readableRepositories(services.accounts, actor?.user, infos), page);
}

/** One page of repositories already checked as readable, described with the caller's access. */
export async function describedRepositoryPage(
  services: ServerServices,
  req: Request,
  res: Response,
  readable: ReadonlyArray<{ info: RepositoryInfo; access: AccessLevel }>,
  page: PageRequest,
): Promise<RepositoryJson[]> {
  const shown = paginateList(req, res, services.baseUrl(req), readable, page);
  const described = await Promise.all(
    shown.map(async ({ info, access }) => {
      const repo = await services.registry.open(info.owner, info.name);
      // Deleted between the listing and now: leave it out rather than fail the whole page.
      return repo ? describeRepository(services, req, repo, access) : undefined;
    }),
  );
  return described.filter((json): json is RepositoryJson => json !== undefined);
}

/** The body of a repository creation (Gitea's CreateRepoOption, the fields Gitfleet keeps). */
export const createRepositoryBody = z.object({
  name: repositoryName,
  description: z.string().max(2048).optional(),
  private: z.boolean().optional(),
  default_branch: branchName.optional(),
});

/** Creates the repository a creation body describes under `owner`, for `actor`, and answers 201 with it. */
export async function createFromBody(
  services: ServerServices,
  req: Request,
  res: Response,
  actor: Actor,
  owner: string,
  body: z.infer<typeof createRepositoryBody>,
): Promise<RepositoryJson> {
  const repo = await createRepository(services, {
    owner,
    name: body.name,
    description: body.description,
    private: body.private,
    defaultBranch: body.default_branch,
    creator: actor.user,
  });
  return describeCreated(services, req, res, repo);
}

/** A created repository's answer: its JSON, and its URL in the Location header. */
export async function describeCreated(services: ServerServices, req: Request, res: Response, repo: Repository): Promise<RepositoryJson> {
  res.location(`/api/v1/repos/${encodeURIComponent(repo.info.owner)}/${encodeURIComponent(repo.info.name)}`);
  return describeRepository(services, req, repo, 'admin');
}

function repositoryNameProblem(name: string): string | undefined {
  try {
    validateRepositoryName('owner', name);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
