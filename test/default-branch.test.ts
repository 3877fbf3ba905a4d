// A repository whose default branch does not exist takes the first branch pushed to it as its
// default (as GitHub and Gitea do): `git push origin master` into a new repository (default
// main) gives clones a checkout of master. Of several branches created at once: the current
// default name, else main, else master, else the first in command order; tags do not count.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { GitClient, PROTOCOLS } from '@gitfleet/test-support/git-client';
import { adminHeaders, serverForFile, serverTest } from '@gitfleet/test-support/server';

const server = serverForFile();
const it = serverTest(() => server);

let repoNumber = 0;
/** A new repository (default branch main, nothing pushed) and its URL. */
async function newRepository(label: string): Promise<{ url: string; name: string }> {
  const name = `default-${label}-${++repoNumber}`;
  return { url: await server.createRepo('e2e', name), name };
}

/** What `git ls-remote --symref` says HEAD points at; undefined when it names none. */
async function remoteHead(git: GitClient, url: string): Promise<string | undefined> {
  const listing = await git.ok(['ls-remote', '--symref', url, 'HEAD']);
  return /^ref: (\S+)\tHEAD$/m.exec(listing)?.[1];
}

/** default_branch of the REST API's repository. */
async function apiDefaultBranch(name: string): Promise<string> {
  const response = await fetch(`${server.url}/api/v1/repos/e2e/${name}`, { headers: adminHeaders() });
  assert.equal(response.status, 200);
  return ((await response.json()) as { default_branch: string }).default_branch;
}

for (const protocol of PROTOCOLS) {
  describe(`protocol v${protocol}`, () => {
    let git: GitClient;
    before(async () => {
      git = await GitClient.create(protocol);
    });
    after(async () => {
      await git?.cleanup();
    });

    it('the first push of master into a new repository makes master its default', async () => {
      const { url, name } = await newRepository('master');
      const work = await git.init('master-work');
      await git.ok(['checkout', '-q', '-b', 'master'], { cwd: work });
      const tip = await git.commitFiles(work, { 'hello.txt': 'from master\n' }, 'on master');
      await git.ok(['push', url, 'master'], { cwd: work });

      assert.equal(await remoteHead(git, url), 'refs/heads/master');
      assert.equal(await apiDefaultBranch(name), 'master');
      const clone = await git.clone(url, 'master-clone');
      assert.equal(await git.ok(['symbolic-ref', 'HEAD'], { cwd: clone }), 'refs/heads/master');
      assert.equal(await git.revParse(clone, 'HEAD'), tip);
      assert.equal(await readFile(join(clone, 'hello.txt'), 'utf8'), 'from master\n');
    });
  });
}

describe('which branch becomes the default', () => {
  let git: GitClient;
  let work: string;
  before(async () => {
    git = await GitClient.create(0);
    work = await git.init('choice-work');
    await git.commitFiles(work, { 'a.txt': 'a\n' }, 'first');
    for (const branch of ['master', 'topic', 'zeta', 'alpha', 'dev']) await git.ok(['branch', branch], { cwd: work });
    await git.ok(['tag', 'v1'], { cwd: work });
  });
  after(async () => {
    await git?.cleanup();
  });

  it('the current default name, when the push creates it among others', async () => {
    const { url, name } = await newRepository('keeps-main');
    await git.ok(['push', url, 'topic', 'main', 'master'], { cwd: work });
    assert.equal(await remoteHead(git, url), 'refs/heads/main');
    assert.equal(await apiDefaultBranch(name), 'main');
  });

  it('master before other names, whatever their order', async () => {
    const { url, name } = await newRepository('prefers-master');
    await git.ok(['push', url, 'topic', 'master', 'alpha'], { cwd: work });
    assert.equal(await remoteHead(git, url), 'refs/heads/master');
    assert.equal(await apiDefaultBranch(name), 'master');
  });

  it('else the first branch in command order (git sends them in the order of its command line)', async () => {
    const { url, name } = await newRepository('first-created');
    await git.ok(['push', url, 'v1', 'zeta', 'alpha'], { cwd: work });
    assert.equal(await remoteHead(git, url), 'refs/heads/zeta');
    assert.equal(await apiDefaultBranch(name), 'zeta');
  });

  it('not a tag: HEAD stays unborn until a branch comes', async () => {
    const { url, name } = await newRepository('tag-first');
    await git.ok(['push', url, 'v1'], { cwd: work });
    assert.equal(await remoteHead(git, url), undefined, 'ls-remote names no HEAD while its branch does not exist');
    assert.equal(await apiDefaultBranch(name), 'main');
    await git.ok(['push', url, 'dev'], { cwd: work });
    assert.equal(await remoteHead(git, url), 'refs/heads/dev');
  });

  it('only while the default branch does not exist', async () => {
    const { url, name } = await newRepository('born');
    await git.ok(['push', url, 'master'], { cwd: work });
    await git.ok(['push', url, 'main', 'topic'], { cwd: work });
    assert.equal(await remoteHead(git, url), 'refs/heads/master', 'a later push does not move it, even of main');
    assert.equal(await apiDefaultBranch(name), 'master');
  });

  it('two first pushes at once: the default is one of their branches, and it exists', async () => {
    for (let round = 0; round < 3; round++) {
      const { url } = await newRepository('race');
      await Promise.all([git.ok(['push', url, 'alpha'], { cwd: work }), git.ok(['push', url, 'zeta'], { cwd: work })]);
      const head = await remoteHead(git, url);
      assert.ok(head === 'refs/heads/alpha' || head === 'refs/heads/zeta', `round ${round}: HEAD → ${head}`);
    }
  });
});
