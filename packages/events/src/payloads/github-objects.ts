/**
 * GitHub's user and repository objects as webhook payloads carry them. Gitfleet has no
 * accounts yet, so a user is only a name; ids are derived from names and repository ids so
 * that they are stable integers, as GitHub's schemas require.
 */
import { createHash } from 'node:crypto';
import type { Repository } from '@gitfleet/repository';

/** A stable 48-bit integer for `text` (safe as a JSON number). */
export function stableNumericId(text: string): number {
  return createHash('sha1').update(text).digest().readUIntBE(0, 6);
}

/** Repository ids are random hex UUIDs; their first 48 bits make the integer id. */
export function repositoryNumericId(repo: Repository): number {
  const id = repo.info.id;
  return /^[0-9a-f]{12}/i.test(id) ? parseInt(id.slice(0, 12), 16) : stableNumericId(`repository:${id}`);
}

/** GitHub's GraphQL node ids are base64 of "<length-prefixed type><id>"; this follows that form. */
function nodeId(type: string, id: number): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString('base64');
}

function trimSlash(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

export interface RepositoryUrls {
  /** Where people (and git) find the repository: `<base>/<owner>/<name>`. */
  html: string;
  /** Its REST API root: `<base>/api/v1/repos/<owner>/<name>`. */
  api: string;
  clone: string;
}

export function repositoryUrls(repo: Repository, baseUrl: string): RepositoryUrls {
  const base = trimSlash(baseUrl);
  const path = `${encodeURIComponent(repo.info.owner)}/${encodeURIComponent(repo.info.name)}`;
  return { html: `${base}/${path}`, api: `${base}/api/v1/repos/${path}`, clone: `${base}/${path}.git` };
}

/** GitHub's user object for a login (the repository owner, or the pusher's name). */
export function userObject(login: string, baseUrl: string) {
  const base = trimSlash(baseUrl);
  const id = stableNumericId(`user:${login.toLowerCase()}`);
  const api = `${base}/api/v1/users/${encodeURIComponent(login)}`;
  return {
    login,
    id,
    node_id: nodeId('User', id),
    avatar_url: `${base}/avatars/${encodeURIComponent(login)}`,
    gravatar_id: '',
    url: api,
    html_url: `${base}/${encodeURIComponent(login)}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: 'User' as const,
    site_admin: false,
  };
}

export type UserObject = ReturnType<typeof userObject>;

export interface RepositoryObjectOptions {
  defaultBranch: string;
  /** When the repository last received a push (now, for a push event); null when unknown. */
  pushedAt: Date | null;
  /**
   * GitHub's push event writes created_at and pushed_at as epoch seconds and adds
   * master_branch and stargazers; every other event uses ISO 8601 strings.
   */
  pushStyle: boolean;
}

/** GitHub's full repository object (every field the webhook schemas require). */
export function repositoryObject(repo: Repository, baseUrl: string, options: RepositoryObjectOptions) {
  const { owner, name, createdAt, private: isPrivate } = repo.info;
  const urls = repositoryUrls(repo, baseUrl);
  const api = urls.api;
  const id = repositoryNumericId(repo);
  const host = new URL(baseUrl).host;
  const created = new Date(createdAt);
  const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);
  return {
    id,
    node_id: nodeId('Repository', id),
    name,
    full_name: `${owner}/${name}`,
    private: isPrivate,
    owner: userObject(owner, baseUrl),
    html_url: urls.html,
    description: null,
    fork: false,
    url: api,
    forks_url: `${api}/forks`,
    keys_url: `${api}/keys{/key_id}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    teams_url: `${api}/teams`,
    hooks_url: `${api}/hooks`,
    issue_events_url: `${api}/issues/events{/number}`,
    events_url: `${api}/events`,
    assignees_url: `${api}/assignees{/user}`,
    branches_url: `${api}/branches{/branch}`,
    tags_url: `${api}/tags`,
    blobs_url: `${api}/git/blobs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    trees_url: `${api}/git/trees{/sha}`,
    statuses_url: `${api}/statuses/{sha}`,
    languages_url: `${api}/languages`,
    stargazers_url: `${api}/stargazers`,
    contributors_url: `${api}/contributors`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    commits_url: `${api}/commits{/sha}`,
    git_commits_url: `${api}/git/commits{/sha}`,
    comments_url: `${api}/comments{/number}`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    contents_url: `${api}/contents/{+path}`,
    compare_url: `${api}/compare/{base}...{head}`,
    merges_url: `${api}/merges`,
    archive_url: `${api}/{archive_format}{/ref}`,
    downloads_url: `${api}/downloads`,
    issues_url: `${api}/issues{/number}`,
    pulls_url: `${api}/pulls{/number}`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    labels_url: `${api}/labels{/name}`,
    releases_url: `${api}/releases{/id}`,
    deployments_url: `${api}/deployments`,
    created_at: options.pushStyle ? epochSeconds(created) : created.toISOString(),
    updated_at: (options.pushedAt ?? created).toISOString(),
    pushed_at: options.pushedAt === null ? null : options.pushStyle ? epochSeconds(options.pushedAt) : options.pushedAt.toISOString(),
    // Gitfleet serves git over HTTP only: every clone URL a consumer might pick is the HTTP one,
    // except ssh_url, which keeps GitHub's scp-like form so that consumers matching on it still parse it.
    git_url: urls.clone,
    ssh_url: `git@${host}:${owner}/${name}.git`,
    clone_url: urls.clone,
    svn_url: urls.html,
    homepage: null,
    size: 0,
    stargazers_count: 0,
    watchers_count: 0,
    language: null,
    has_issues: false,
    has_projects: false,
    has_downloads: false,
    has_wiki: false,
    has_pages: false,
    has_discussions: false,
    forks_count: 0,
    mirror_url: null,
    archived: false,
    disabled: false,
    open_issues_count: 0,
    license: null,
    allow_forking: false,
    is_template: false,
    web_commit_signoff_required: false,
    topics: [],
    visibility: isPrivate ? ('private' as const) : ('public' as const),
    forks: 0,
    open_issues: 0,
    watchers: 0,
    default_branch: options.defaultBranch,
    ...(options.pushStyle ? { stargazers: 0, master_branch: options.defaultBranch } : {}),
    custom_properties: {},
  };
}
