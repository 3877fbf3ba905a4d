// Shallow clones and deepening, under protocol v0 and v2. Every case runs the same git
// commands against Gitfleet and against C git's own upload-pack (a file:// URL to the same
// history) and expects the same commits, the same shallow boundary and the same refs.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { GitClient, PROTOCOLS } from '@gitfleet/test-support/git-client';
import { serverForFile, serverTest } from '@gitfleet/test-support/server';
import { buildStandardHistory, type StandardHistory } from './helpers/history.js';
import { assertFsckClean, fileUrl, localRefs, mapToObject, shallowCommits } from './helpers/compare.js';

const server = serverForFile();
const it = serverTest(() => server);

for (const protocol of PROTOCOLS) {
  describe(`protocol v${protocol}`, () => {
    let git: GitClient;
    let source: string;
    let history: StandardHistory;
    let url: string;

    before(async () => {
      git = await GitClient.create(protocol);
      source = await git.init('source', { bare: true });
      history = await buildStandardHistory(git, source);
      url = await server.createRepo('e2e', `shallow-v${protocol}`);
      await git.ok(['push', url, 'refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*'], { cwd: source });
    });
    after(async () => {
      await git?.cleanup();
    });

    interface ShallowState {
      commits: string[];
      shallow: string[];
      refs: Record<string, string>;
    }

    async function state(dir: string): Promise<ShallowState> {
      await assertFsckClean(git, dir);
      const commits = (await git.ok(['rev-list', '--all'], { cwd: dir })).split('\n').filter(Boolean).sort();
      return { commits, shallow: await shallowCommits(git, dir), refs: mapToObject(await localRefs(git, dir)) };
    }

    /**
     * Clones with `cloneArgs` from Gitfleet and from the oracle, runs each follow-up fetch in
     * both, and asserts the two end in the same state; returns Gitfleet's. Follow-up cases
     * clone with --no-tags: after a deepening fetch, C git's tag following differs between
     * the stateful file:// transport and stateless HTTP, whatever the server.
     */
    async function sameAsOracle(cloneArgs: string[], followUps: string[][] = []): Promise<ShallowState> {
      const ours = await git.clone(url, 'ours', cloneArgs);
      const oracle = await git.clone(fileUrl(source), 'oracle', cloneArgs);
      assert.deepEqual(await state(ours), await state(oracle), `after clone ${cloneArgs.join(' ')}`);
      for (const args of followUps) {
        await git.ok(args, { cwd: ours });
        await git.ok(args, { cwd: oracle });
        assert.deepEqual(await state(ours), await state(oracle), `after ${args.join(' ')}`);
      }
      return state(ours);
    }

    it('clones with --depth 1', async () => {
      const result = await sameAsOracle(['--depth', '1']);
      assert.deepEqual(result.commits, [history.oids['main-11']]);
      assert.deepEqual(result.shallow, [history.oids['main-11']]);
    });

    it('clones every branch with --depth 3', async () => {
      const result = await sameAsOracle(['--depth', '3', '--no-single-branch']);
      assert.ok(result.shallow.length >= 3, 'each branch has its own shallow boundary');
    });

    it('clones with --shallow-since', async () => {
      // An hour before main-8: the boundary is not on a commit's exact time.
      const since = new Date((history.mainTime(8) - 3600) * 1000).toISOString();
      const result = await sameAsOracle([`--shallow-since=${since}`]);
      assert.ok(result.commits.includes(history.oids['main-11']));
      assert.ok(!result.commits.includes(history.oids['main-7']), 'commits older than the date must be left out');
      assert.ok(result.shallow.length > 0);
    });

    it('clones with --shallow-exclude', async () => {
      const result = await sameAsOracle(['--shallow-exclude=v1.0']);
      assert.ok(!result.commits.includes(history.oids['main-3']), 'main-3 (v1.0) must be excluded');
      assert.ok(result.commits.includes(history.oids['main-4']));
      assert.ok(result.commits.includes(history.oids['feature-0']));
    });

    it('deepens a shallow clone with fetch --deepen', async () => {
      const result = await sameAsOracle(['--depth', '1', '--no-tags'], [['fetch', '--deepen=2', 'origin']]);
      assert.equal(result.shallow.length > 0, true);
      assert.ok(result.commits.includes(history.oids['main-10']));
    });

    it('deepens to an absolute depth with fetch --depth', async () => {
      await sameAsOracle(['--depth', '1', '--no-single-branch', '--no-tags'], [['fetch', '--depth=4', 'origin']]);
    });

    it('completes a shallow clone with fetch --unshallow', async () => {
      const result = await sameAsOracle(['--depth', '2', '--no-tags'], [['fetch', '--unshallow', 'origin']]);
      assert.deepEqual(result.shallow, []);
      const full = (await git.ok(['rev-list', 'refs/heads/main'], { cwd: source })).split('\n').sort();
      assert.deepEqual(result.commits, full);
    });
  });
}
