/**
 * The git-reading API routes against git itself: a repository built and pushed with the real
 * git, every answer checked against git's own view of it (rev-parse, for-each-ref, log,
 * diff-tree, ls-tree, show, rev-list, merge-base). The repository is public, so anonymous
 * requests read it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rawRequest, startTestServer, type TestServer } from './helpers.js';
import { TEST_ADMIN_ENV } from '@gitfleet/test-support/server';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { ADMIN, BIG_FILE, SUBMODULE_URL, buildFixture, createAdminRepository, pushFixture, type Fixture } from './api-git-fixture.js';

const REPO = 'fixture';

let server: TestServer;
const fixtureRoot = tempDir({ after }, 'api-git');
let fixture: Fixture;
let repoApi: string;

before(async () => {
  fixture = await buildFixture(fixtureRoot);
  server = await startTestServer(TEST_ADMIN_ENV);
  await createAdminRepository(server.url, REPO, { private: false });
  await pushFixture(fixture.git, server.url, ADMIN, REPO);
  repoApi = `${server.url}/api/v1/repos/${ADMIN}/${REPO}`;
});

after(async () => {
  await server?.stop();
});

const git = () => fixture.git;

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${repoApi}${path}`, { headers });
}

async function getJson<T>(path: string, expected = 200): Promise<T> {
  const response = await get(path);
  const text = await response.text();
  assert.equal(response.status, expected, `GET ${path}: ${text}`);
  return JSON.parse(text) as T;
}

/** Every item of a paginated list, following Link rel="next" from `path`; also the number of pages. */
async function allPages<T>(path: string): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let url: string | undefined = `${repoApi}${path}`;
  let pages = 0;
  while (url) {
    const response: Response = await fetch(url);
    assert.equal(response.status, 200, url);
    items.push(...((await response.json()) as T[]));
    pages += 1;
    assert.ok(pages < 100, 'pagination does not end');
    url = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
  }
  return { items, pages };
}

interface RefJson {
  name: string;
  commit: { sha: string; url: string };
}

interface CommitJson {
  sha: string;
  url: string;
  html_url: string;
  commit: {
    author: { name: string; email: string; date: string };
    committer: { name: string; email: string; date: string };
    message: string;
    tree: { sha: string };
  };
  parents: { sha: string }[];
}

interface ChangedFile {
  sha: string | null;
  filename: string;
  status: string;
  additions: number;
  deletions: number;
  changes: number;
  patch?: string;
  previous_filename?: string;
}

interface CommitDetail extends CommitJson {
  stats: { additions: number; deletions: number; total: number };
  files: ChangedFile[];
}

interface ContentEntry {
  type: string;
  size: number;
  name: string;
  path: string;
  sha: string;
  url: string;
  html_url: string | null;
  download_url: string | null;
  encoding?: string;
  content?: string;
  target?: string;
  submodule_git_url?: string | null;
}

/** `git diff-tree --numstat` with exact renames only, as {path: [additions, deletions, previous path]}. */
function numstat(from: string | undefined, to: string): Map<string, { additions: number; deletions: number; previous?: string }> {
  const args =
    from === undefined
      ? ['diff-tree', '-r', '--root', '--no-commit-id', '-z', '--numstat', '-M100%', to]
      : ['diff-tree', '-r', '-z', '--numstat', '-M100%', from, to];
  const fields = git().run(args).split('\0');
  const stats = new Map<string, { additions: number; deletions: number; previous?: string }>();
  for (let i = 0; i < fields.length; i++) {
    const match = /^(-|\d+)\t(-|\d+)\t(.*)$/.exec(fields[i]);
    if (!match) continue;
    const count = (value: string) => (value === '-' ? 0 : Number(value));
    if (match[3] === '') {
      // A rename: the old and new paths follow as their own fields.
      stats.set(fields[i + 2], { additions: count(match[1]), deletions: count(match[2]), previous: fields[i + 1] });
      i += 2;
    } else {
      stats.set(match[3], { additions: count(match[1]), deletions: count(match[2]) });
    }
  }
  return stats;
}

/**
 * Where the API departs from git's numstat on purpose: browse bounds its work, so a file over
 * its diff size limit (512 KiB) is listed without line counts or patch, and a submodule change
 * (git counts its "Subproject commit" line) without counts either.
 */
const UNCOUNTED = new Set([BIG_FILE, 'vendor/lib']);

function assertFilesMatch(files: ChangedFile[], gitStats: ReturnType<typeof numstat>): void {
  const expected = new Map(
    [...gitStats].map(([path, stat]) => [path, UNCOUNTED.has(path) ? { ...stat, additions: 0, deletions: 0 } : stat]),
  );
  for (const file of files) if (file.filename === BIG_FILE) assert.equal(file.patch, undefined, 'no patch for a file over the limit');
  assert.deepEqual(
    new Map(
      files.map((file) => [
        file.filename,
        { additions: file.additions, deletions: file.deletions, ...(file.previous_filename ? { previous: file.previous_filename } : {}) },
      ]),
    ),
    expected,
  );
  for (const file of files) assert.equal(file.changes, file.additions + file.deletions, file.filename);
}

describe('branches', () => {
  test('the list, a page at a time, is every branch git has', async () => {
    const { items, pages } = await allPages<RefJson & { protected: boolean }>('/branches?per_page=2');
    const expected = git().lines(['for-each-ref', '--format=%(refname:short) %(objectname)', 'refs/heads']);
    assert.deepEqual(items.map((branch) => `${branch.name} ${branch.commit.sha}`).sort(), expected.sort());
    assert.equal(pages, Math.ceil(expected.length / 2));
    assert.ok(items.every((branch) => branch.protected === false && branch.commit.url.endsWith(`/commits/${branch.commit.sha}`)));
  });

  test("Gitea's limit is an alias of per_page, and the Link header points at the next page", async () => {
    const response = await get('/branches?limit=3');
    const branches = (await response.json()) as RefJson[];
    assert.equal(branches.length, 3);
    assert.match(response.headers.get('link') ?? '', /[?&]page=2\b[^>]*>; rel="next"/);
  });

  test('one branch whose name holds slashes, with its head commit', async () => {
    for (const name of ['topic/deep/name', 'feature/x-y', 'main']) {
      const branch = await getJson<{ name: string; commit: CommitJson; _links: { html: string } }>(`/branches/${name}`);
      assert.equal(branch.name, name);
      assert.equal(branch.commit.sha, git().revParse(`refs/heads/${name}`));
      assert.equal(branch.commit.commit.tree.sha, git().revParse(`refs/heads/${name}^{tree}`));
      assert.ok(branch._links.html.endsWith(`/tree/${name}`));
    }
  });

  test('a branch that does not exist is 404 with a message', async () => {
    const answer = await getJson<{ message: string }>('/branches/no/such/branch', 404);
    assert.match(answer.message, /no\/such\/branch/);
    // A tag is not a branch.
    await getJson('/branches/v1.0', 404);
  });
});

describe('tags', () => {
  test('every tag of a commit, annotated ones peeled to it', async () => {
    const { items } = await allPages<RefJson>('/tags?per_page=1');
    const expected = git()
      .lines(['for-each-ref', '--format=%(refname:short)', 'refs/tags'])
      .filter(
        (name) =>
          git()
            .run(['cat-file', '-t', `refs/tags/${name}^{}`])
            .trim() === 'commit',
      )
      .map((name) => `${name} ${git().revParse(`refs/tags/${name}^{commit}`)}`);
    assert.ok(!items.some((tag) => tag.name === 'tree-tag'), 'a tag of a tree names no commit');
    assert.deepEqual(items.map((tag) => `${tag.name} ${tag.commit.sha}`).sort(), expected.sort());
    assert.notEqual(git().revParse('refs/tags/v1.0'), git().revParse('refs/tags/v1.0^{commit}'), 'v1.0 is an annotated tag');
  });
});

describe('commits', () => {
  test('history of the default branch, page by page, is git log', async () => {
    const { items, pages } = await allPages<CommitJson>('/commits?per_page=7');
    const expected = git().lines(['log', '--format=%H', 'main']);
    assert.deepEqual(
      items.map((commit) => commit.sha),
      expected,
    );
    assert.equal(pages, Math.ceil(expected.length / 7));
  });

  test('each listed commit carries what git says of it', async () => {
    const commits = await getJson<CommitJson[]>('/commits?per_page=3&sha=feature/x-y');
    assert.equal(commits.length, 3);
    const records = git()
      .run(['log', '--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%cn%x00%aI%x00%B%x01', '-3', 'feature/x-y'])
      .split('\x01\n')
      .filter(Boolean);
    assert.equal(records.length, 3);
    commits.forEach((commit, index) => {
      const [sha, tree, parents, authorName, authorEmail, committerName, authorDate, message] = records[index].split('\0');
      assert.equal(commit.sha, sha);
      assert.equal(commit.commit.tree.sha, tree);
      assert.deepEqual(
        commit.parents.map((parent) => parent.sha),
        parents === '' ? [] : parents.split(' '),
      );
      assert.equal(commit.commit.author.name, authorName);
      assert.equal(commit.commit.author.email, authorEmail);
      assert.equal(commit.commit.committer.name, committerName);
      assert.equal(Date.parse(commit.commit.author.date), Date.parse(authorDate));
      assert.equal(commit.commit.message.trimEnd(), message.trimEnd());
      assert.ok(commit.url.endsWith(`/api/v1/repos/${ADMIN}/${REPO}/commits/${sha}`));
      assert.ok(commit.html_url.endsWith(`/${ADMIN}/${REPO}/commit/${sha}`));
    });
  });

  test('a page past the end is empty and has no next link', async () => {
    const response = await get('/commits?per_page=100&page=2');
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), []);
    assert.doesNotMatch(response.headers.get('link') ?? '', /rel="next"/);
  });

  test('from a branch, a tag or an abbreviated id', async () => {
    for (const revision of ['topic/deep/name', 'v1.0', git().revParse('v0.1').slice(0, 10)]) {
      const { items } = await allPages<CommitJson>(`/commits?per_page=30&sha=${encodeURIComponent(revision)}`);
      assert.deepEqual(
        items.map((commit) => commit.sha),
        git().lines(['log', '--format=%H', revision]),
        revision,
      );
    }
  });

  test('only the commits that changed a path', async () => {
    for (const path of ['counter.txt', 'dir/sub/c.txt', 'renamed.txt']) {
      const { items } = await allPages<CommitJson>(`/commits?per_page=4&path=${encodeURIComponent(path)}`);
      assert.deepEqual(
        items.map((commit) => commit.sha),
        git().lines(['log', '--format=%H', 'main', '--', path]),
        path,
      );
    }
  });

  test('an unknown revision is 404 with a message', async () => {
    const answer = await getJson<{ message: string }>('/commits?sha=no-such-branch', 404);
    assert.ok(answer.message.length > 0);
  });

  test('one commit: its stats and files are git diff-tree --numstat against the first parent', async () => {
    const cases = [
      'main~0', // a change after the merge
      'main~1', // the merge itself
      git().lines(['log', '--format=%H', '--grep=rename a.txt', 'main'])[0],
      git().lines(['log', '--format=%H', '--grep=binary', 'main'])[0],
      git().lines(['log', '--format=%H', '--grep=big file', 'main'])[0],
      git().lines(['log', '--format=%H', '--grep=symlinks', 'main'])[0],
      git().lines(['log', '--format=%H', '--grep=submodule', 'main'])[0],
      'topic/deep/name', // a removal
      git().lines(['rev-list', '--max-parents=0', 'main'])[0], // the root commit
    ];
    for (const revision of cases) {
      const sha = git().revParse(revision);
      const parents = git().run(['rev-list', '--parents', '-n', '1', sha]).trim().split(' ').slice(1);
      const detail = await getJson<CommitDetail>(`/commits/${sha}`);
      assert.equal(detail.sha, sha);
      assertFilesMatch(detail.files, numstat(parents[0], sha));
      const additions = detail.files.reduce((sum, file) => sum + file.additions, 0);
      const deletions = detail.files.reduce((sum, file) => sum + file.deletions, 0);
      assert.deepEqual(detail.stats, { additions, deletions, total: additions + deletions }, revision);
    }
  });

  test("statuses, the rename's previous name, and patches", async () => {
    const renameCommit = git().lines(['log', '--format=%H', '--grep=rename a.txt', 'main'])[0];
    const rename = await getJson<CommitDetail>(`/commits/${renameCommit}`);
    assert.deepEqual(
      rename.files.map((file) => [file.status, file.filename, file.previous_filename]),
      [['renamed', 'renamed.txt', 'a.txt']],
    );
    const removal = await getJson<CommitDetail>('/commits/topic/deep/name');
    assert.deepEqual(
      removal.files.map((file) => [file.status, file.filename]),
      [['removed', 'image.bin']],
    );
    assert.equal(removal.files[0].patch, undefined, 'no patch for a binary file');

    const change = await getJson<CommitDetail>('/commits/main');
    const [file] = change.files;
    assert.equal(file.status, 'modified');
    assert.equal(file.sha, git().revParse('main:renamed.txt'));
    const gitPatch = git().run(['diff-tree', '-p', '--no-commit-id', 'main~1', 'main', '--', 'renamed.txt']);
    const hunks = gitPatch.slice(gitPatch.indexOf('@@'));
    assert.equal(file.patch!.trimEnd(), hunks.trimEnd());
  });

  test("a commit's statuses stay with their own routes", async () => {
    for (const suffix of ['status', 'statuses']) {
      const response = await get(`/commits/main/${suffix}`);
      assert.equal(response.status, 200, suffix);
      const body = (await response.json()) as unknown;
      assert.ok(!(typeof body === 'object' && body !== null && 'files' in body), `${suffix} answered as a commit`);
    }
  });

  test('an unknown commit is 404', async () => {
    await getJson('/commits/0123456789abcdef0123456789abcdef01234567', 404);
    await getJson('/commits/no-such-ref', 404);
  });
});

describe('contents', () => {
  function lsTree(revision: string, path = ''): Map<string, { mode: string; type: string; sha: string; size: string }> {
    const entries = new Map<string, { mode: string; type: string; sha: string; size: string }>();
    const args = ['ls-tree', '-l', '-z', path === '' ? revision : `${revision}:${path}`];
    for (const line of git().run(args).split('\0').filter(Boolean)) {
      const [meta, name] = line.split('\t');
      const [mode, type, sha, size] = meta.trim().split(/\s+/);
      entries.set(name, { mode: mode, type: type, sha: sha, size: size });
    }
    return entries;
  }

  function expectedType(mode: string): string {
    if (mode === '040000') return 'dir';
    if (mode === '120000') return 'symlink';
    return 'file'; // GitHub's v3 API lists a submodule as a file
  }

  for (const [label, suffix, revision, path] of [
    ['the root of the default branch', '/contents', 'main', ''],
    ['the root at a tag', '/contents?ref=v1.0', 'v1.0', ''],
    ['a directory at a commit id', `/contents/dir?ref=REV`, 'main~3', 'dir'],
    ['a directory holding a submodule', '/contents/vendor', 'main', 'vendor'],
  ] as const) {
    test(`${label} lists what git ls-tree lists`, async () => {
      const url = suffix.replace('REV', git().revParse(revision));
      const entries = await getJson<ContentEntry[]>(url);
      const expected = lsTree(revision, path);
      assert.deepEqual(entries.map((entry) => entry.name).sort(), [...expected.keys()].sort());
      for (const entry of entries) {
        const want = expected.get(entry.name)!;
        assert.equal(entry.sha, want.sha, entry.name);
        assert.equal(entry.type, expectedType(want.mode), entry.name);
        assert.equal(entry.size, want.size === '-' ? 0 : Number(want.size), entry.name);
        assert.equal(entry.path, path === '' ? entry.name : `${path}/${entry.name}`);
      }
      // Directories first, as a browser shows them.
      const kinds = entries.map((entry) => entry.type === 'dir');
      assert.deepEqual(
        kinds,
        [...kinds].sort((a, b) => Number(b) - Number(a)),
      );
    });
  }

  test('a file: base64 of the bytes git show gives, with its blob id and size', async () => {
    for (const [path, revision] of [
      ['dir/b.txt', 'main'],
      ['dir/b.txt', 'v0.1'],
      ['image.bin', 'main'],
      ['README.md', 'feature/x-y'],
    ] as const) {
      const file = await getJson<ContentEntry>(`/contents/${path}?ref=${encodeURIComponent(revision)}`);
      const bytes = git().bytes(['show', `${revision}:${path}`]);
      assert.equal(file.type, 'file');
      assert.equal(file.encoding, 'base64');
      assert.deepEqual(Buffer.from(file.content!, 'base64'), bytes, `${revision}:${path}`);
      assert.equal(file.size, bytes.length);
      assert.equal(file.sha, git().revParse(`${revision}:${path}`));
      assert.equal(file.name, path.split('/').pop());
      assert.equal(file.path, path);
      assert.ok(file.download_url?.endsWith(`/raw/${revision}/${path}`), file.download_url ?? 'no download_url');
    }
  });

  test('a file over 1 MiB: empty content, encoding "none", its real size', async () => {
    const file = await getJson<ContentEntry>(`/contents/${BIG_FILE}`);
    assert.equal(file.encoding, 'none');
    assert.equal(file.content, '');
    assert.equal(
      file.size,
      Number(
        git()
          .run(['cat-file', '-s', `main:${BIG_FILE}`])
          .trim(),
      ),
    );
    assert.ok(file.size > 1024 * 1024);
  });

  test('Accept: application/vnd.github.raw gives the bytes themselves, the big file included', async () => {
    for (const path of [BIG_FILE, 'image.bin', 'dir/sub/c.txt']) {
      const response = await get(`/contents/${path}`, { accept: 'application/vnd.github.raw' });
      assert.equal(response.status, 200);
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), git().bytes(['show', `main:${path}`]), path);
    }
  });

  test('a symlink to a file of the repository answers with that file; another one with its target', async () => {
    const linked = await getJson<ContentEntry>('/contents/link-to-b');
    assert.equal(linked.type, 'file');
    assert.equal(linked.path, 'dir/b.txt');
    assert.deepEqual(Buffer.from(linked.content!, 'base64'), git().bytes(['show', 'main:dir/b.txt']));

    const dangling = await getJson<ContentEntry>('/contents/dangling');
    assert.equal(dangling.type, 'symlink');
    assert.equal(dangling.target, git().run(['show', 'main:dangling']));
    assert.equal(dangling.sha, git().revParse('main:dangling'));
  });

  test('a submodule: its commit and the URL .gitmodules gives', async () => {
    const submodule = await getJson<ContentEntry>('/contents/vendor/lib');
    assert.equal(submodule.type, 'submodule');
    assert.equal(submodule.sha, git().revParse('main:vendor/lib'));
    assert.equal(submodule.submodule_git_url, SUBMODULE_URL);
  });

  test('the object media type wraps a directory in an object with entries', async () => {
    const response = await get('/contents/dir', { accept: 'application/vnd.github.object' });
    const dir = (await response.json()) as ContentEntry & { entries: ContentEntry[] };
    assert.equal(dir.type, 'dir');
    assert.equal(dir.sha, git().revParse('main:dir'));
    assert.deepEqual(dir.entries.map((entry) => entry.name).sort(), [...lsTree('main', 'dir').keys()].sort());
  });

  test('a missing path or revision is 404 with a message', async () => {
    for (const path of ['/contents/no/such/file', '/contents/a.txt', '/contents/dir?ref=no-such-ref', '/contents/dir/b.txt/deeper']) {
      const answer = await getJson<{ message: string }>(path, 404);
      assert.ok(answer.message.length > 0, path);
    }
  });

  test('dot-dot segments name no entry: 404, never a file outside the directory', async () => {
    for (const path of [
      '/contents/dir/%2e%2e/README.md',
      '/contents/dir/../README.md',
      '/contents/%2e%2e',
      '/contents/dir%2f..%2fREADME.md',
    ]) {
      const response = await rawRequest(server.url, `/api/v1/repos/${ADMIN}/${REPO}${path}`);
      assert.equal(response.status, 404, `${path}: ${response.body.toString()}`);
    }
  });

  test('the README of the root, and raw', async () => {
    const readme = await getJson<ContentEntry>('/readme');
    assert.equal(readme.path, 'README.md');
    assert.deepEqual(Buffer.from(readme.content!, 'base64'), git().bytes(['show', 'main:README.md']));
    const raw = await get('/readme?ref=v0.1', { accept: 'application/vnd.github.v3.raw' });
    assert.deepEqual(Buffer.from(await raw.arrayBuffer()), git().bytes(['show', 'v0.1:README.md']));
    await getJson('/readme/dir', 404);
  });
});

describe('compare', () => {
  interface Comparison {
    status: string;
    ahead_by: number;
    behind_by: number;
    total_commits: number;
    base_commit: CommitJson;
    merge_base_commit: CommitJson;
    commits: CommitJson[];
    files: ChangedFile[];
  }

  for (const [base, head, status] of [
    ['main', 'topic/deep/name', 'diverged'],
    ['topic/deep/name', 'main', 'diverged'],
    ['v0.1', 'main', 'ahead'],
    ['feature/x-y', 'v0.1', 'behind'],
    ['main', 'main', 'identical'],
    ['feature/x-y', 'main', 'ahead'],
  ] as const) {
    test(`${base}...${head} is ${status}, as git rev-list, merge-base and diff-tree say`, async () => {
      const comparison = await getJson<Comparison>(`/compare/${base}...${head}`);
      const mergeBase = git().run(['merge-base', base, head]).trim();
      const aheadBy = Number(
        git()
          .run(['rev-list', '--count', `${base}..${head}`])
          .trim(),
      );
      const behindBy = Number(
        git()
          .run(['rev-list', '--count', `${head}..${base}`])
          .trim(),
      );
      assert.equal(comparison.status, status);
      assert.equal(comparison.ahead_by, aheadBy);
      assert.equal(comparison.behind_by, behindBy);
      assert.equal(comparison.total_commits, aheadBy);
      assert.equal(comparison.merge_base_commit.sha, mergeBase);
      assert.equal(comparison.base_commit.sha, git().revParse(`${base}^{commit}`));
      assert.deepEqual(
        comparison.commits.map((commit) => commit.sha).sort(),
        git()
          .lines(['rev-list', `${base}..${head}`])
          .sort(),
      );
      assertFilesMatch(comparison.files, numstat(mergeBase, git().revParse(`${head}^{commit}`)));
    });
  }

  test('commits are listed oldest first', async () => {
    const comparison = await getJson<Comparison>('/compare/v0.1...main');
    assert.deepEqual(
      comparison.commits.map((commit) => commit.sha),
      git().lines(['rev-list', '--reverse', 'v0.1..main']),
    );
  });

  test('no common ancestor, an unknown side or no "..." is 404', async () => {
    const unrelated = await getJson<{ message: string }>('/compare/main...lonely', 404);
    assert.match(unrelated.message, /common ancestor/);
    await getJson('/compare/main...no-such-branch', 404);
    await getJson('/compare/main..feature/x-y', 404);
  });
});

describe('an empty repository', () => {
  test('has no branches or tags; history is 409 and contents 404, as GitHub answers', async () => {
    await createAdminRepository(server.url, 'empty', { private: false });
    const empty = (path: string) => fetch(`${server.url}/api/v1/repos/${ADMIN}/empty${path}`);
    assert.deepEqual(await (await empty('/branches')).json(), []);
    assert.deepEqual(await (await empty('/tags')).json(), []);
    const history = await empty('/commits');
    assert.equal(history.status, 409);
    assert.deepEqual(await history.json(), { message: 'Git Repository is empty.' });
    for (const path of ['/contents', '/contents/README.md', '/readme', '/commits/main', '/branches/main', '/compare/main...main']) {
      const response = await empty(path);
      assert.equal(response.status, 404, path);
      assert.ok(((await response.json()) as { message: string }).message.length > 0, path);
    }
  });
});

test('the OpenAPI document describes every git-reading route', async () => {
  const document = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, { get?: unknown }> };
  for (const path of [
    'branches',
    'branches/{branch}',
    'tags',
    'commits',
    'commits/{ref}',
    'contents',
    'contents/{path}',
    'readme',
    'compare/{basehead}',
  ]) {
    assert.ok(document.paths[`/repos/{owner}/{repo}/${path}`]?.get, path);
  }
});
