import { parseCommit, type ObjectId, type Signature } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { isAncestor } from './commit-range.js';
import { wellFormed } from './commit-object.js';
import { repositoryObject, repositoryUrls, userObject } from './github-objects.js';

/** A commit status as the statuses API stored it. */
export interface CommitStatus {
  /** Unique within the repository. */
  id: number;
  state: 'pending' | 'success' | 'failure' | 'error';
  description: string | null;
  target_url: string | null;
  context: string;
  /** ISO 8601. */
  created_at: string;
}

export interface StatusPayloadOptions {
  baseUrl: string;
  /** Who posted the status. */
  sender: string;
}

/** GitHub lists at most this many branches containing the commit. */
const MAX_BRANCHES = 10;

/**
 * GitHub's `status` event: the status, the commit in the REST API's shape, and up to ten
 * branches that contain the commit (the default branch first). Gitfleet has no accounts, so
 * the commit's author and committer users are null and commits are never verified.
 */
export async function buildStatusPayload(
  repo: Repository,
  sha: ObjectId,
  status: CommitStatus,
  options: StatusPayloadOptions,
): Promise<object> {
  const object = await repo.objects.read(sha);
  if (!object || object.type !== 'commit')
    throw new Error(`status ${status.id} of ${repo.info.owner}/${repo.info.name}: commit ${sha} is missing`);
  const commit = parseCommit(object.data);
  const urls = repositoryUrls(repo, options.baseUrl);
  const head = await repo.refs.head();
  const signed = commit.extraHeaders.some(([key]) => key === 'gpgsig' || key === 'gpgsig-sha256');
  return {
    id: status.id,
    sha,
    name: `${repo.info.owner}/${repo.info.name}`,
    target_url: status.target_url,
    avatar_url: null,
    context: status.context,
    description: status.description,
    state: status.state,
    commit: {
      sha,
      node_id: Buffer.from(`06:Commit${repo.info.id}:${sha}`).toString('base64'),
      commit: {
        author: gitUser(commit.author),
        committer: gitUser(commit.committer),
        message: wellFormed(commit.message.replace(/\n+$/, '')),
        tree: { sha: commit.tree, url: `${urls.api}/git/trees/${commit.tree}` },
        url: `${urls.api}/git/commits/${sha}`,
        comment_count: 0,
        // Signatures are not checked: a signed commit reads as one signed with an unknown key.
        verification: { verified: false, reason: signed ? 'unknown_key' : 'unsigned', signature: null, payload: null },
      },
      url: `${urls.api}/commits/${sha}`,
      html_url: `${urls.html}/commit/${sha}`,
      comments_url: `${urls.api}/commits/${sha}/comments`,
      author: null,
      committer: null,
      parents: commit.parents.map((parent) => ({
        sha: parent,
        url: `${urls.api}/commits/${parent}`,
        html_url: `${urls.html}/commit/${parent}`,
      })),
    },
    branches: await branchesContaining(repo, sha, head, urls.api),
    created_at: status.created_at,
    updated_at: status.created_at,
    repository: repositoryObject(repo, options.baseUrl, {
      defaultBranch: head.replace(/^refs\/heads\//, ''),
      pushedAt: null,
      pushStyle: false,
    }),
    sender: userObject(options.sender, options.baseUrl),
  };
}

function gitUser(signature: Signature) {
  return {
    name: wellFormed(signature.name),
    email: wellFormed(signature.email),
    date: new Date(signature.timestamp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

async function branchesContaining(repo: Repository, sha: ObjectId, head: string, apiUrl: string) {
  const reader = repo.commitReader();
  const branches = (await repo.refs.list('refs/heads/')).sort((a, b) => Number(b.name === head) - Number(a.name === head));
  const found = [];
  for (const branch of branches) {
    if (found.length === MAX_BRANCHES) break;
    const tip = await reader.peel(branch.oid);
    if (tip?.type !== 'commit' || !(await isAncestor(reader, sha, tip.oid))) continue;
    found.push({
      name: branch.name.slice('refs/heads/'.length),
      commit: { sha: tip.oid, url: `${apiUrl}/commits/${tip.oid}` },
      protected: false,
    });
  }
  return found;
}
