// Partial clones (blob:none, blob:limit, tree:0) with lazy fetching on demand, under protocol
// v0 and v2. What is left out is compared with C git's own upload-pack over file://.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GitClient, PROTOCOLS } from '@gitfleet/test-support/git-client';
import { serverForFile, serverTest } from '@gitfleet/test-support/server';
import { buildStandardHistory } from './helpers/history.js';
import { assertFsckClean, fileUrl, missingObjects, reachableObjects } from './helpers/compare.js';

const server = serverForFile();
const it = serverTest(() => server);

for (const protocol of PROTOCOLS) {
  describe(`protocol v${protocol}`, () => {
    let git: GitClient;
    let source: string;
    let url: string;

    before(async () => {
      git = await GitClient.create(protocol);
      source = await git.init('source', { bare: true });
      await buildStandardHistory(git, source);
      url = await server.createRepo('e2e', `partial-v${protocol}`);
      await git.ok(['push', url, 'refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*'], { cwd: source });
    });
    after(async () => {
      await git?.cleanup();
    });

    /** Clones without checkout from Gitfleet and the oracle; asserts the same objects are missing. */
    async function partialClone(filter: string): Promise<{ dir: string; missing: string[] }> {
      const args = [`--filter=${filter}`, '--no-checkout'];
      const dir = await git.clone(url, 'ours', args);
      const oracle = await git.clone(fileUrl(source), 'oracle', args);
      const missing = await missingObjects(git, dir);
      assert.deepEqual(missing, await missingObjects(git, oracle), `objects left out by --filter=${filter}`);
      assert.ok(missing.length > 0, `--filter=${filter} left nothing out: the server ignored the filter`);
      assert.equal(await git.ok(['config', 'remote.origin.promisor'], { cwd: dir }), 'true');
      await assertFsckClean(git, dir);
      return { dir, missing };
    }

    async function objectType(oid: string): Promise<string> {
      return git.ok(['cat-file', '-t', oid], { cwd: source });
    }

    it('blob:none leaves out every blob and fetches them lazily on checkout and show', async () => {
      const { dir, missing } = await partialClone('blob:none');
      for (const oid of missing) assert.equal(await objectType(oid), 'blob');

      await git.ok(['checkout', '-q', 'main'], { cwd: dir });
      assert.equal(await git.ok(['status', '--porcelain'], { cwd: dir }), '');
      assert.equal(await readFile(join(dir, 'README.md'), 'utf8'), 'Readme revision 11\n');
      const headBlobs = (await git.ok(['ls-tree', '-r', '--format=%(objectname)', 'HEAD'], { cwd: dir })).split('\n');
      const stillMissing = await missingObjects(git, dir);
      for (const oid of headBlobs) assert.ok(!stillMissing.includes(oid), `blob ${oid} of HEAD still missing after checkout`);
      const oldReadme = await git.revParse(source, 'main~11:README.md');
      assert.ok(stillMissing.includes(oldReadme), 'checkout fetched more than HEAD needs');

      // Reading an old blob fetches it on demand.
      assert.equal(await git.ok(['show', 'main~11:README.md'], { cwd: dir }), 'Readme revision 0');
      assert.ok(!(await missingObjects(git, dir)).includes(oldReadme));
      await assertFsckClean(git, dir);
    });

    it('blob:limit leaves out exactly the large blobs', async () => {
      const { dir, missing } = await partialClone('blob:limit=2k');
      for (const oid of missing) {
        assert.equal(await objectType(oid), 'blob');
        assert.ok(Number(await git.ok(['cat-file', '-s', oid], { cwd: source })) >= 2048, `small blob ${oid} left out`);
      }
      await git.ok(['checkout', '-q', 'main'], { cwd: dir });
      assert.equal(await git.ok(['status', '--porcelain'], { cwd: dir }), '');
      await git.ok(['log', '-p', '--all'], { cwd: dir });
      assert.deepEqual(await missingObjects(git, dir), []);
      assert.deepEqual(await reachableObjects(git, dir), await reachableObjects(git, source));
    });

    it('tree:0 leaves out every tree and blob; checkout fetches what it needs', async () => {
      const { dir, missing } = await partialClone('tree:0');
      for (const oid of missing) assert.equal(await objectType(oid), 'tree');
      const commits = (await git.ok(['rev-list', '--all'], { cwd: source })).split('\n');
      assert.equal(missing.length, new Set(await Promise.all(commits.map((c) => git.revParse(source, `${c}^{tree}`)))).size);

      await git.ok(['checkout', '-q', 'release'], { cwd: dir });
      assert.equal(await git.ok(['status', '--porcelain'], { cwd: dir }), '');
      assert.equal(await readFile(join(dir, 'VERSION'), 'utf8'), '1.1\n');
      await assertFsckClean(git, dir);
    });
  });
}
