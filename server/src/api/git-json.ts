/**
 * What the git-reading API routes share: opening a repository for a read, the URLs of an
 * answer, and the JSON shapes (GitHub's field names, which Gitea shares where the two overlap)
 * with their schemas for the OpenAPI document. Browse's RevisionNotFound and PathNotFound are
 * 404s by operations/errors.ts.
 */
import type { Request } from 'express';
import { z } from 'zod';
import { defaultBranch, type CommitInfo, type DiffResult, type FileDiff, type Signature } from '@gitfleet/browse';
import type { ObjectId } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { authorizeRepository } from '../auth/index.js';
import { HttpError } from '../http-errors.js';
import { resolveRevision } from '../operations/revisions.js';
import type { ServerServices } from '../services.js';

export const repositoryParams = z.object({ owner: z.string(), repo: z.string() });

/** The repository of a read route (404 for those who may not read it, as the auth rules say). */
export async function openForRead(services: ServerServices, req: Request, params: { owner: string; repo: string }): Promise<Repository> {
  const { repo } = await authorizeRepository(services, req, params.owner, params.repo, 'read', 'api');
  return repo;
}

/**
 * Express 5 hands a wildcard parameter ("*path") over as its segments, already percent-decoded;
 * the name they spell together, "a/b/c".
 */
export function wildcardParam(req: Request, name: string): string {
  const value: unknown = (req.params as Record<string, unknown>)[name];
  if (Array.isArray(value)) return value.join('/');
  return typeof value === 'string' ? value : '';
}

/** GitHub's answers when a repository has no commit yet: 409 for history, 404 for contents. */
export const EMPTY_HISTORY = { status: 409, message: 'Git Repository is empty.' };
export const EMPTY_CONTENTS = { status: 404, message: 'This repository is empty.' };

/** The revision a request names (`?ref=`, `?sha=`) or the default branch; `whenEmpty` for a repository without commits. */
export async function revisionOrDefault(
  repo: Repository,
  revision: string | undefined,
  whenEmpty: { status: number; message: string } = EMPTY_HISTORY,
): Promise<{ name: string; commit: ObjectId }> {
  if (revision !== undefined && revision !== '') return { name: revision, commit: await resolveRevision(repo, revision) };
  const branch = await defaultBranch(repo);
  if (branch.commit === undefined) throw new HttpError(whenEmpty.status, whenEmpty.message);
  return { name: branch.name, commit: branch.commit };
}

/** "/"-separated path with each segment percent-encoded, for URLs. */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** Where a repository's answers point: its API base and its web pages. */
export interface RepositoryUrls {
  /** ".../api/v1/repos/{owner}/{repo}" */
  api: string;
  /** ".../{owner}/{repo}" */
  html: string;
}

export function repositoryUrls(services: ServerServices, req: Request, repo: Repository): RepositoryUrls {
  const base = services.baseUrl(req);
  const fullName = `${encodeURIComponent(repo.info.owner)}/${encodeURIComponent(repo.info.name)}`;
  return { api: `${base}/api/v1/repos/${fullName}`, html: `${base}/${fullName}` };
}

// ---- commits ----

const signatureSchema = z.object({ name: z.string(), email: z.string(), date: z.string() });

const parentSchema = z.object({ sha: z.string(), url: z.string(), html_url: z.string() });

export const commitSchema = z
  .object({
    sha: z.string(),
    url: z.string(),
    html_url: z.string(),
    commit: z.object({
      author: signatureSchema,
      committer: signatureSchema,
      message: z.string(),
      tree: z.object({ sha: z.string() }),
      comment_count: z.number(),
    }),
    parents: z.array(parentSchema),
  })
  .meta({ id: 'GitCommit', description: "A commit as GitHub's commits API lists it" });

export const changedFileSchema = z
  .object({
    sha: z.string().nullable(),
    filename: z.string(),
    status: z.enum(['added', 'removed', 'modified', 'renamed']),
    additions: z.number(),
    deletions: z.number(),
    changes: z.number(),
    blob_url: z.string(),
    raw_url: z.string(),
    contents_url: z.string(),
    patch: z.string().optional().meta({ description: 'Absent for a binary file or one too large to diff' }),
    patch_omitted: z.enum(['size', 'changes', 'budget']).optional().meta({
      description:
        'Why there is no patch (and no line counts): a side too large, too many changed lines, or the diff budget of the request spent',
    }),
    previous_filename: z.string().optional(),
  })
  .meta({ id: 'ChangedFile' });

/** Whether a diff's answer is whole: the file cap and the per-request budget say when it is not. */
export const diffCompletenessShape = {
  files_truncated: z.boolean().meta({ description: 'More files changed than listed' }),
  diff_budget_exhausted: z
    .boolean()
    .meta({ description: 'The time or line budget ran out: some files have no patch (patch_omitted "budget")' }),
};

export function diffCompleteness(diff: DiffResult): { files_truncated: boolean; diff_budget_exhausted: boolean } {
  return { files_truncated: diff.truncated, diff_budget_exhausted: diff.budgetExhausted === true };
}

export const commitDetailSchema = commitSchema
  .extend({
    stats: z.object({ additions: z.number(), deletions: z.number(), total: z.number() }),
    files: z.array(changedFileSchema),
    ...diffCompletenessShape,
  })
  .meta({ id: 'GitCommitDetail', description: 'A commit with its changes against its first parent' });

function signatureJson(signature: Signature): z.infer<typeof signatureSchema> {
  return { name: signature.name, email: signature.email, date: signature.date };
}

export function commitJson(urls: RepositoryUrls, commit: CommitInfo): z.infer<typeof commitSchema> {
  return {
    sha: commit.oid,
    url: `${urls.api}/commits/${commit.oid}`,
    html_url: `${urls.html}/commit/${commit.oid}`,
    commit: {
      author: signatureJson(commit.author),
      committer: signatureJson(commit.committer),
      message: commit.message,
      tree: { sha: commit.tree },
      comment_count: 0,
    },
    parents: commit.parents.map((sha) => ({ sha, url: `${urls.api}/commits/${sha}`, html_url: `${urls.html}/commit/${sha}` })),
  };
}

/** The files of a diff whose new side is `commit` (GitHub's `files` of a commit or a comparison). */
export function changedFilesJson(urls: RepositoryUrls, commit: ObjectId, diff: DiffResult): z.infer<typeof changedFileSchema>[] {
  return diff.files.map((file) => changedFileJson(urls, commit, file));
}

function changedFileJson(urls: RepositoryUrls, commit: ObjectId, file: FileDiff): z.infer<typeof changedFileSchema> {
  const path = encodePath(file.path);
  return {
    sha: file.newOid ?? file.oldOid ?? null,
    filename: file.path,
    status: file.status,
    additions: file.additions,
    deletions: file.deletions,
    changes: file.additions + file.deletions,
    blob_url: `${urls.html}/blob/${commit}/${path}`,
    raw_url: `${urls.html}/raw/${commit}/${path}`,
    contents_url: `${urls.api}/contents/${path}?ref=${commit}`,
    ...(file.patch !== undefined ? { patch: file.patch } : {}),
    ...(file.tooLargeReason !== undefined ? { patch_omitted: file.tooLargeReason } : {}),
    ...(file.previousPath !== undefined ? { previous_filename: file.previousPath } : {}),
  };
}

export function diffStats(diff: DiffResult): { additions: number; deletions: number; total: number } {
  return { additions: diff.additions, deletions: diff.deletions, total: diff.additions + diff.deletions };
}

// ---- refs ----

export const refCommitSchema = z.object({ sha: z.string(), url: z.string() });

export function refCommitJson(urls: RepositoryUrls, commit: ObjectId): z.infer<typeof refCommitSchema> {
  return { sha: commit, url: `${urls.api}/commits/${commit}` };
}
