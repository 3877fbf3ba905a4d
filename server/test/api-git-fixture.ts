/**
 * What the API-GIT tests share: a repository built with the real git (branches whose names
 * hold "/", annotated and lightweight tags (and one of a tree), a rename, a binary file, a file over 1 MiB,
 * symlinks, a submodule, a merge, enough commits for several pages), git itself to check the
 * answers against, and a server with users to push it to and read it as.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gitIdentity, isolatedGitConfig } from '@gitfleet/test-support/git';
import { TEST_ADMIN, TEST_ADMIN_TOKEN } from '@gitfleet/test-support/server';

/** The real git over a directory, with no user or system configuration leaking in. */
export class Git {
  constructor(
    readonly dir: string,
    private readonly home: string,
  ) {}

  /** For local reads only: it blocks the event loop, so an in-process server cannot answer meanwhile. */
  run(args: string[]): string {
    return this.bytes(args).toString('utf8');
  }

  bytes(args: string[]): Buffer {
    return execFileSync('git', args, { cwd: this.dir, env: this.env(), maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** For commands that talk to the in-process server. */
  async runAsync(args: string[]): Promise<string> {
    const { stdout } = await promisify(execFile)('git', args, { cwd: this.dir, env: this.env(), maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  }

  private env(): NodeJS.ProcessEnv {
    // No terminal prompt: a refused push fails instead of waiting for a password.
    return { ...fixtureEnv(this.home), GIT_TERMINAL_PROMPT: '0' };
  }

  lines(args: string[]): string[] {
    return this.run(args)
      .split('\n')
      .filter((line) => line !== '');
  }

  revParse(revision: string): string {
    return this.run(['rev-parse', revision]).trim();
  }
}

/** Only PATH from this process: git, its identity, and a HOME with no configuration. */
function fixtureEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', LANG: 'C', ...isolatedGitConfig({ home }), ...gitIdentity({ clock: false }) };
}

export interface Fixture {
  git: Git;
}

/** The big file: over the API's 1 MiB inline limit. */
export const BIG_FILE = 'big.txt';
export const SUBMODULE_URL = 'https://example.com/lib.git';

/**
 * Builds the repository under `root`, an empty directory. Dates grow by a minute per commit
 * so that `git log`'s order (by committer date) is unambiguous.
 */
export async function buildFixture(root: string): Promise<Fixture> {
  const home = join(root, 'home');
  const dir = join(root, 'work');
  await mkdir(home);
  await mkdir(dir);
  const script = String.raw`
set -e
git init -q -b main .
git config core.autocrlf false
n=0
tick() { n=$((n+1)); export GIT_AUTHOR_DATE="@$((1700000000 + n * 60)) +0200" GIT_COMMITTER_DATE="@$((1700000000 + n * 60)) +0200"; }
commit() { tick; git commit -q "$@"; }

printf 'hello\n' > a.txt
mkdir -p dir/sub
printf 'one\ntwo\nthree\nfour\nfive\n' > dir/b.txt
printf 'deep\n' > dir/sub/c.txt
printf '# Fixture\n\nA repository for the API tests.\n' > README.md
git add -A; commit -m 'initial'
printf 'one\ntwo\nTHREE\nfour\nfive\n' > dir/b.txt
git add -A; commit -m 'change b'
git mv a.txt renamed.txt; commit -m 'rename a.txt'
printf '\000\001\002binary\377\n' > image.bin
git add image.bin; commit -m 'add a binary file'
yes 'a line of the big file, repeated until it is over one mebibyte' | head -c 1500000 > ${BIG_FILE}
git add ${BIG_FILE}; commit -m 'add a big file'
ln -s dir/b.txt link-to-b
ln -s ../outside dangling
git add link-to-b dangling; commit -m 'symlinks'
git update-index --add --cacheinfo 160000,1111111111111111111111111111111111111111,vendor/lib
printf '[submodule "vendor/lib"]\n\tpath = vendor/lib\n\turl = ${SUBMODULE_URL}\n' > .gitmodules
git add .gitmodules; commit -m 'submodule'
tick; git tag -a v1.0 -m 'release 1.0'
git tag v0.1 HEAD~3
git tag tree-tag 'HEAD^{tree}'
# Forty commits for the pages, through one fast-import rather than eighty processes.
parent=$(git rev-parse HEAD)
for i in $(seq 1 40); do
  tick; at=$((1700000000 + n * 60)); message="count $i"
  printf 'commit refs/heads/main\nauthor Ada Lovelace <ada@example.test> %s +0200\ncommitter Ada Lovelace <ada@example.test> %s +0200\n' $at $at
  printf 'data <<END\n%s\n\nEND\n' "$message"
  [ $i = 1 ] && printf 'from %s\n' "$parent"
  printf 'M 100644 inline counter.txt\ndata <<END\n%s\n\nEND\n\n' "$i"
done | git fast-import --quiet
git reset -q --hard
git checkout -q -b feature/x-y HEAD~5
printf 'feature\n' > feature.txt; git add feature.txt; commit -m 'feature 1'
printf 'six\n' >> dir/b.txt; git add dir/b.txt; commit -m 'feature 2'
git checkout -q main
tick; git merge -q --no-ff -m 'Merge branch feature/x-y' feature/x-y
git checkout -q -b topic/deep/name HEAD~2
printf 'topic\n' > topic.txt; git add topic.txt; commit -m 'topic 1'
git rm -q image.bin; commit -m 'topic 2: remove the binary'
git checkout -q main
printf 'after\n' >> renamed.txt; git add renamed.txt; commit -m 'after the topic forked'
git checkout -q --orphan lonely
git rm -rq --cached .
printf 'alone\n' > alone.txt; git add alone.txt; commit -m 'an unrelated root'
git checkout -q -f main
`;
  const git = new Git(dir, home);
  execFileSync('bash', ['-c', script], {
    cwd: dir,
    env: { ...fixtureEnv(home), BIG_FILE },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return { git };
}

export const ADMIN = TEST_ADMIN;
export const ADMIN_TOKEN = TEST_ADMIN_TOKEN;

export function basic(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

export const adminAuth = (): Record<string, string> => ({ authorization: `Bearer ${ADMIN_TOKEN}` });

/** A JSON API call; throws with the answer when its status is not `expected`. */
export async function api(
  baseUrl: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: unknown; expected?: number } = {},
): Promise<unknown> {
  const response = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: { ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  if (response.status !== (options.expected ?? 200)) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** A repository owned by the test administrator. */
export async function createAdminRepository(baseUrl: string, name: string, options: { private: boolean }): Promise<void> {
  await api(baseUrl, 'POST', '/user/repos', { headers: adminAuth(), body: { name, private: options.private }, expected: 201 });
}

/** A user (created by the administrator, as Gitea's admin API does). */
export async function createUser(baseUrl: string, name: string, password: string): Promise<void> {
  await api(baseUrl, 'POST', '/admin/users', {
    headers: adminAuth(),
    body: { username: name, email: `${name}@example.test`, password, must_change_password: false },
    expected: 201,
  });
}

/** A personal access token of `user` that may read repositories (minted with the password, as Gitea requires). */
export async function createReadToken(baseUrl: string, user: string, password: string): Promise<string> {
  const token = (await api(baseUrl, 'POST', `/users/${user}/tokens`, {
    headers: { authorization: basic(user, password) },
    body: { name: 'api-git', scopes: ['read:repository'] },
    expected: 201,
  })) as { sha1: string };
  return token.sha1;
}

/** Pushes every branch and tag of the fixture to owner/name as the administrator. */
export async function pushFixture(git: Git, baseUrl: string, owner: string, name: string): Promise<void> {
  await git.runAsync([
    '-c',
    `http.extraHeader=Authorization: ${basic(ADMIN, ADMIN_TOKEN)}`,
    'push',
    '-q',
    `${baseUrl}/${owner}/${name}.git`,
    'refs/heads/*:refs/heads/*',
    'refs/tags/*:refs/tags/*',
  ]);
}
