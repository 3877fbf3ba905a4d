/**
 * Git LFS file locking with the real client (Debian's git-lfs, scripts/servers/git-lfs.sh):
 * `git lfs lock`, `locks`, `unlock` (with --force by an administrator, refused to a writer),
 * the server refusing a colleague's push that changes a locked path on any branch while the
 * other refs of the push go through, the holder's own push passing, the client's pre-push
 * check (lfs.locksverify), paging through many locks, and anonymous or unauthorised callers.
 * The pushed files are ordinary git files at lockable paths: enforcement is about paths, and
 * LFS objects would need the batch API, which this file does not exercise.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { GitClient } from '@gitfleet/test-support/git-client';
import { adminHeaders, serverForFile, serverTest, testPassword } from '@gitfleet/test-support/server';

const OWNER = 'olga';
const HOLDER = 'hana';
const COLLEAGUE = 'cole';
const READER = 'rita';
const STRANGER = 'sam';
const MAX_LOCKS = 300;
const LFS_JSON = 'application/vnd.git-lfs+json';

/** Each user's token: Basic passwords would cost a password hash on every request. */
const tokens = new Map<string, string>();

function auth(user: string): string {
  return `Bearer ${tokens.get(user)}`;
}

async function createToken(baseUrl: string, user: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/v1/users/${user}/tokens`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${user}:${testPassword(user)}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ name: 'lfs', scopes: ['write:repository'] }),
  });
  const text = await response.text();
  assert.equal(response.status, 201, `creating a token of ${user}: ${text}`);
  return JSON.parse(text).sha1;
}

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

describe('Git LFS locks', () => {
  const server = serverForFile({ GITFLEET_LFS_MAX_LOCKS: String(MAX_LOCKS) });
  const test = serverTest(() => server);
  const clients = new Map<string, GitClient>();
  let seed: GitClient;
  let repoCount = 0;

  before(async () => {
    for (const user of [OWNER, HOLDER, COLLEAGUE, READER, STRANGER]) {
      await server.ensureUser(user);
      tokens.set(user, await createToken(server.url, user));
      clients.set(user, await GitClient.create(0, { authorization: auth(user) }));
    }
    seed = await GitClient.create(0);
  });

  after(async () => {
    for (const client of clients.values()) await client.cleanup();
    await seed?.cleanup();
  });

  const as = (user: string) => clients.get(user)!;

  /** A private repository of OWNER with `files` on main, HOLDER and COLLEAGUE writers, READER a reader. */
  async function repository(files: Record<string, string>, options: { private?: boolean } = {}): Promise<{ name: string; url: string }> {
    const name = `locks-${++repoCount}`;
    const { url } = await server.createRepository(OWNER, name, { private: options.private ?? true });
    for (const [user, permission] of [
      [HOLDER, 'write'],
      [COLLEAGUE, 'write'],
      [READER, 'read'],
    ]) {
      const granted = await fetch(`${server.url}/api/v1/repos/${OWNER}/${name}/collaborators/${user}`, {
        method: 'PUT',
        headers: adminHeaders({ 'content-type': 'application/json' }),
        body: JSON.stringify({ permission }),
      });
      assert.equal(granted.status, 204, `granting ${user} ${permission}: ${await granted.text()}`);
    }
    const source = await seed.init('seed');
    await seed.commitFiles(source, files, 'first');
    await seed.ok(['push', '-q', url, 'main'], { cwd: source });
    return { name, url };
  }

  async function call(method: string, path: string, authorization: string | undefined, body?: unknown): Promise<Answer> {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        accept: LFS_JSON,
        ...(authorization ? { authorization } : {}),
        ...(body === undefined ? {} : { 'content-type': LFS_JSON }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // left as text
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  const lfs = (user: string, dir: string, args: string[]) => as(user).run(['lfs', ...args], { cwd: dir });
  const lfsOk = (user: string, dir: string, args: string[]) => as(user).ok(['lfs', ...args], { cwd: dir });

  async function lockWithGit(user: string, dir: string, path: string): Promise<{ id: string; path: string; owner: { name: string } }> {
    // git-lfs 3.3 prints the lock it made as a list of one.
    const [lock] = JSON.parse(await lfsOk(user, dir, ['lock', '--json', path]));
    return lock;
  }

  async function remoteRefs(dir: string): Promise<Record<string, string>> {
    const listed = await seed.ok(['ls-remote', 'origin'], { cwd: dir });
    return Object.fromEntries(
      listed
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => line.split('\t').reverse()),
    );
  }

  test('git lfs lock, locks and unlock; another writer may neither take nor release the lock, an administrator may force it', async () => {
    const { url } = await repository({ 'art/hero.psd': 'v1\n', 'docs/notes.txt': 'notes\n' });
    const holder = await as(HOLDER).clone(url, 'holder');
    const colleague = await as(COLLEAGUE).clone(url, 'colleague');
    const reader = await as(READER).clone(url, 'reader');
    const owner = await as(OWNER).clone(url, 'owner');

    const lock = await lockWithGit(HOLDER, holder, 'art/hero.psd');
    assert.equal(lock.path, 'art/hero.psd');
    assert.equal(lock.owner.name, HOLDER);

    const taken = await lfs(COLLEAGUE, colleague, ['lock', 'art/hero.psd']);
    assert.notEqual(taken.code, 0);
    assert.match(taken.stderr, /already (created|locked)|exists/i);

    for (const [user, dir] of [
      [COLLEAGUE, colleague],
      [READER, reader],
    ]) {
      const listed = JSON.parse(await lfsOk(user, dir, ['locks', '--json']));
      assert.deepEqual(
        listed.map((l: any) => [l.id, l.path, l.owner.name]),
        [[lock.id, 'art/hero.psd', HOLDER]],
        `${user} lists the lock`,
      );
    }
    const byPath = JSON.parse(await lfsOk(READER, reader, ['locks', '--json', '--path', 'art/hero.psd']));
    assert.deepEqual(
      byPath.map((l: any) => l.id),
      [lock.id],
    );

    const refusedRead = await lfs(READER, reader, ['lock', 'docs/notes.txt']);
    assert.notEqual(refusedRead.code, 0, 'a reader may not lock');
    assert.match(refusedRead.stderr, /permission denied|403|write/i);

    const notYours = await lfs(COLLEAGUE, colleague, ['unlock', 'art/hero.psd']);
    assert.notEqual(notYours.code, 0);
    assert.match(notYours.stderr, new RegExp(`locked by ${HOLDER}|owned by`));
    const notAdmin = await lfs(COLLEAGUE, colleague, ['unlock', '--force', 'art/hero.psd']);
    assert.notEqual(notAdmin.code, 0, 'a writer may not force-unlock');
    assert.match(notAdmin.stderr, /administrators/);
    assert.equal(JSON.parse(await lfsOk(COLLEAGUE, colleague, ['locks', '--json'])).length, 1);

    await lfsOk(OWNER, owner, ['unlock', '--force', '--id', lock.id]);
    assert.deepEqual(JSON.parse(await lfsOk(READER, reader, ['locks', '--json'])), []);

    // The holder's own lock is theirs to release without force.
    await lockWithGit(HOLDER, holder, 'docs/notes.txt');
    await lfsOk(HOLDER, holder, ['unlock', 'docs/notes.txt']);
    assert.deepEqual(JSON.parse(await lfsOk(READER, reader, ['locks', '--json'])), []);
  });

  test("a colleague's push that changes a locked path is refused for that ref only; the holder's push passes", async () => {
    const { url } = await repository({ 'art/hero.psd': 'v1\n', 'art/other.psd': 'other\n', 'src/app.txt': 'app\n' });
    const holder = await as(HOLDER).clone(url, 'holder');
    const lock = await lockWithGit(HOLDER, holder, 'art/hero.psd');
    const colleague = await as(COLLEAGUE).clone(url, 'colleague');
    const git = as(COLLEAGUE);
    const before = await remoteRefs(colleague);

    await git.commitFiles(colleague, { 'art/hero.psd': 'v2 by the colleague\n' }, 'edit the locked file');
    await git.ok(['checkout', '-q', '-b', 'feature', 'origin/main'], { cwd: colleague });
    const feature = await git.commitFiles(colleague, { 'src/app.txt': 'app v2\n' }, 'edit an unlocked file');
    const push = await git.fails(['push', 'origin', 'main', 'feature'], { cwd: colleague });
    assert.match(push.stderr, /\[remote rejected\] main -> main \(art\/hero\.psd is locked by hana \(lock [0-9a-f]+\)/);
    assert.ok(push.stderr.includes(`lock ${lock.id}`), push.stderr);
    assert.match(push.stderr, /\* \[new branch\] +feature -> feature/);
    const after = await remoteRefs(colleague);
    assert.equal(after['refs/heads/main'], before['refs/heads/main']);
    assert.equal(after['refs/heads/feature'], feature);

    // Every kind of change, on any branch: a removal, a rename away, a change and its revert.
    const attempts: Array<[string, (dir: string) => Promise<void>]> = [
      ['remove', async (dir) => void (await git.ok(['rm', '-q', 'art/hero.psd'], { cwd: dir }))],
      ['rename', async (dir) => void (await git.ok(['mv', 'art/hero.psd', 'art/renamed.psd'], { cwd: dir }))],
      [
        'revert',
        async (dir) => {
          await writeFile(join(dir, 'art/hero.psd'), 'briefly changed\n');
          await git.ok(['commit', '-q', '-am', 'change'], { cwd: dir });
          await git.ok(['revert', '--no-edit', 'HEAD'], { cwd: dir });
        },
      ],
    ];
    for (const [branch, change] of attempts) {
      await git.ok(['checkout', '-q', '-b', branch, 'origin/main'], { cwd: colleague });
      await change(colleague);
      await git.ok(['commit', '-q', '--allow-empty', '-m', branch], { cwd: colleague });
      const refused = await git.fails(['push', 'origin', branch], { cwd: colleague });
      assert.match(refused.stderr, new RegExp(`\\[remote rejected\\] ${branch} -> ${branch} \\(art/hero\\.psd is locked by hana`), branch);
    }
    // Deleting a branch changes no tree.
    await git.ok(['push', '-q', 'origin', ':feature'], { cwd: colleague });
    assert.equal((await remoteRefs(colleague))['refs/heads/feature'], undefined);

    const edited = await as(HOLDER).commitFiles(holder, { 'art/hero.psd': 'v2 by the holder\n' }, 'edit my locked file');
    await as(HOLDER).ok(['push', '-q', 'origin', 'main'], { cwd: holder });
    assert.equal((await remoteRefs(holder))['refs/heads/main'], edited);

    // Once unlocked, the colleague's change goes through.
    await lfsOk(HOLDER, holder, ['unlock', 'art/hero.psd']);
    await git.ok(['checkout', '-q', 'main'], { cwd: colleague });
    await git.ok(['pull', '-q', '--rebase', '-X', 'theirs', 'origin', 'main'], { cwd: colleague });
    await git.ok(['push', '-q', 'origin', 'main'], { cwd: colleague });
  });

  test("lfs.locksverify: git-lfs's pre-push hook asks /locks/verify and stops a push of someone else's locked file", async () => {
    const { url } = await repository({ 'art/hero.psd': 'v1\n', 'src/app.txt': 'app\n' });
    const holder = await as(HOLDER).clone(url, 'holder');
    await lockWithGit(HOLDER, holder, 'art/hero.psd');
    const git = as(COLLEAGUE);
    const colleague = await git.clone(url, 'colleague');
    await git.ok(['lfs', 'install', '--local'], { cwd: colleague });
    await git.ok(['config', 'lfs.locksverify', 'true'], { cwd: colleague });

    await git.commitFiles(colleague, { 'src/app.txt': 'app v2\n' }, 'an unlocked file');
    await git.ok(['push', '-q', 'origin', 'main'], { cwd: colleague });

    await git.commitFiles(colleague, { 'art/hero.psd': 'v2\n' }, 'the locked file');
    const push = await git.fails(['push', 'origin', 'main'], { cwd: colleague });
    // git-lfs's own refusal, before git sends anything.
    const said = push.stdout + push.stderr;
    assert.match(said, /Unable to push locked files/);
    assert.match(said, /art\/hero\.psd - hana/);
    assert.match(said, /Cannot update locked files/);
    assert.doesNotMatch(said, /remote rejected/);
  });

  test('pages through many locks with a cursor, bounded per request and per repository', async () => {
    const { name, url } = await repository({ 'README.md': 'hi\n' });
    const locks = `/${OWNER}/${name}.git/info/lfs/locks`;
    const created: string[] = [];
    for (let n = 0; n < MAX_LOCKS; n++) {
      const answer = await call('POST', locks, auth(HOLDER), { path: `assets/file-${n}.bin`, ref: { name: 'refs/heads/main' } });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.match(answer.headers.get('content-type') ?? '', /application\/vnd\.git-lfs\+json/);
      created.push(answer.body.lock.id);
    }
    const over = await call('POST', locks, auth(HOLDER), { path: 'one-too-many.bin' });
    assert.equal(over.status, 422);
    assert.match(over.body.message, /most allowed/);

    const listed: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await call('GET', `${locks}?limit=120${cursor ? `&cursor=${cursor}` : ''}&refspec=refs/heads/main`, auth(READER));
      assert.equal(page.status, 200);
      assert.ok(page.body.locks.length <= 120);
      listed.push(...page.body.locks.map((lock: any) => lock.id));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual([...listed].sort(), [...created].sort());
    const capped = await call('GET', `${locks}?limit=100000`, auth(READER));
    assert.equal(capped.body.locks.length, MAX_LOCKS <= 1000 ? MAX_LOCKS : 1000);

    const theirs: string[] = [];
    cursor = undefined;
    do {
      const page = await call('POST', `${locks}/verify`, auth(COLLEAGUE), { limit: 100, ...(cursor ? { cursor } : {}) });
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.deepEqual(page.body.ours, []);
      theirs.push(...page.body.theirs.map((lock: any) => lock.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    assert.deepEqual([...theirs].sort(), [...created].sort());
    const ours = await call('POST', `${locks}/verify`, auth(HOLDER), { limit: 1000 });
    assert.equal(ours.body.ours.length, MAX_LOCKS);
    assert.deepEqual(ours.body.theirs, []);

    // git-lfs follows the cursor itself.
    const reader = await as(READER).clone(url, 'reader');
    assert.equal(JSON.parse(await lfsOk(READER, reader, ['locks', '--json'])).length, MAX_LOCKS);
  });

  test('anonymous callers, strangers and readers get what git over HTTP gives them; bad paths are refused', async () => {
    const secret = await repository({ 'a.txt': 'a\n' });
    const open = await repository({ 'a.txt': 'a\n' }, { private: false });
    const locksOf = (name: string) => `/${OWNER}/${name}.git/info/lfs/locks`;

    const anonymous = await call('GET', locksOf(secret.name), undefined);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic/);
    assert.equal((await call('GET', locksOf(secret.name), auth(STRANGER))).status, 404, 'a private repository stays hidden');
    assert.equal((await call('POST', locksOf(secret.name), auth(STRANGER), { path: 'a.txt' })).status, 404);

    assert.equal((await call('GET', locksOf(open.name), undefined)).status, 200, 'anyone may list the locks of a public repository');
    assert.equal((await call('POST', locksOf(open.name), undefined, { path: 'a.txt' })).status, 401);
    assert.equal((await call('POST', `${locksOf(open.name)}/verify`, undefined, {})).status, 401);
    const reader = await call('POST', locksOf(open.name), auth(READER), { path: 'a.txt' });
    assert.equal(reader.status, 403);
    assert.match(reader.body.message, /permission denied/);

    for (const path of ['/etc/passwd', '../outside', 'a\u0000b', 'x'.repeat(2000), '']) {
      const refused = await call('POST', locksOf(open.name), auth(HOLDER), { path });
      assert.equal(refused.status, 422, `${JSON.stringify(path.slice(0, 20))}: ${JSON.stringify(refused.body)}`);
    }
    const normalised = await call('POST', locksOf(open.name), auth(HOLDER), { path: './dir//a.txt' });
    assert.equal(normalised.status, 201);
    assert.equal(normalised.body.lock.path, 'dir/a.txt');
    const conflict = await call('POST', locksOf(open.name), auth(COLLEAGUE), { path: 'dir/a.txt' });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.lock.id, normalised.body.lock.id);
    assert.equal((await call('POST', `${locksOf(open.name)}/ffff/unlock`, auth(HOLDER), {})).status, 404);

    const git = await GitClient.create(0, { authorization: null });
    try {
      const dir = await git.clone(open.url, 'anonymous');
      const listed = JSON.parse(await git.ok(['lfs', 'locks', '--json'], { cwd: dir }));
      assert.deepEqual(
        listed.map((lock: any) => lock.path),
        ['dir/a.txt'],
      );
      const hidden = await git.run(['-c', `lfs.url=${server.url}/${OWNER}/${secret.name}.git/info/lfs`, 'lfs', 'locks'], { cwd: dir });
      assert.notEqual(hidden.code, 0);
      assert.match(hidden.stderr, /credentials|Authentication|terminal prompts|401/i);
    } finally {
      await git.cleanup();
    }
  });
});
