import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RevisionNotFound, commitDiff, compare, diffTrees } from '../src/index.js';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { buildFixture, diffPool, git, loadRepository, type Fixture } from './fixture.js';

const dir = tempDir({ after }, 'browse');
let fx: Fixture;
before(async () => {
  fx = await buildFixture(dir);
});

const id = (revision: string) => git(fx.dir, ['rev-parse', `${revision}^{commit}`]).trim();
const lines = (text: string) => text.split('\n').filter((line) => line !== '');

describe('compare', () => {
  it('finds the merge base, ahead and behind counts and head commits as git does', async () => {
    // light = v1.0's commit; main~2 is main before the merge; orphan shares no history.
    const refs = ['main', 'feature', 'light', 'main~2', 'feature~1', 'orphan'];
    for (const baseRef of refs) {
      for (const headRef of refs) {
        const [base, head] = [id(baseRef), id(headRef)];
        const result = await compare(fx.repo, base, head, { pool: diffPool });
        const what = `${baseRef}...${headRef}`;
        let mergeBase: string | undefined;
        try {
          mergeBase = git(fx.dir, ['merge-base', base, head]).trim();
        } catch {
          mergeBase = undefined; // unrelated histories: git merge-base exits 1
        }
        assert.equal(result.mergeBase, mergeBase, `${what} merge base`);
        const [behind, ahead] = git(fx.dir, ['rev-list', '--count', '--left-right', `${base}...${head}`])
          .trim()
          .split('\t')
          .map(Number);
        assert.equal(result.aheadBy, ahead, `${what} ahead`);
        assert.equal(result.behindBy, behind, `${what} behind`);
        assert.deepEqual(
          result.commits.map((c) => c.oid),
          lines(git(fx.dir, ['rev-list', '--reverse', `${base}..${head}`])),
          `${what} commits`,
        );
        const expectedDiff = mergeBase ? await diffTrees(fx.repo, treeOf(mergeBase), treeOf(head), { pool: diffPool }) : undefined;
        if (expectedDiff) assert.deepEqual(result.diff, expectedDiff, `${what} diff`);
        assert.equal(result.countsCapped, undefined);
      }
    }
  });

  it('diffs merge-base..head, as git diff base...head', async () => {
    const result = await compare(fx.repo, id('feature'), id('main'), { pool: diffPool });
    const expected = lines(git(fx.dir, ['diff', '--name-only', '-M100%', 'feature...main']));
    assert.deepEqual(
      result.diff.files.map((f) => f.path),
      expected,
    );
    const single = await compare(fx.repo, id('main~1'), id('main'), { pool: diffPool });
    assert.deepEqual(single.diff, await commitDiff(fx.repo, id('main'), { pool: diffPool }));
  });

  it('keeps the newest maxCommits commits, oldest first', async () => {
    const result = await compare(fx.repo, id('light'), id('main'), { pool: diffPool, maxCommits: 2 });
    const all = lines(git(fx.dir, ['rev-list', '--reverse', `${id('light')}..${id('main')}`]));
    assert.equal(result.aheadBy, all.length);
    assert.deepEqual(
      result.commits.map((c) => c.oid),
      all.slice(-2),
    );
  });

  it('counts right when a commit is dated before its parent (clock skew)', async (t) => {
    const dir = tempDir(t, 'browse-skew');
    const commitAt = (message: string, when: number) =>
      git(dir, ['commit', '--quiet', '--allow-empty', '-m', message], {
        env: { GIT_AUTHOR_DATE: `${when} +0000`, GIT_COMMITTER_DATE: `${when} +0000` },
      });
    git(dir, ['init', '--quiet', '--initial-branch=main']);
    commitAt('A', 1_700_000_100);
    git(dir, ['branch', 'feature']);
    commitAt('B', 1_700_000_200);
    git(dir, ['checkout', '--quiet', 'feature']);
    commitAt('C, dated before A', 1_700_000_050);
    commitAt('D', 1_700_000_300);
    const repo = await loadRepository(dir);
    const rev = (name: string) => git(dir, ['rev-parse', name]).trim();
    const result = await compare(repo, rev('main'), rev('feature'), { pool: diffPool });
    assert.equal(result.mergeBase, git(dir, ['merge-base', 'main', 'feature']).trim());
    assert.deepEqual(
      [result.behindBy, result.aheadBy],
      git(dir, ['rev-list', '--count', '--left-right', 'main...feature']).trim().split('\t').map(Number),
    );
    assert.deepEqual(
      result.commits.map((c) => c.oid),
      [rev('feature~1'), rev('feature')],
    );
  });

  it('refuses ids that are not commits', async () => {
    await assert.rejects(compare(fx.repo, id('main'), 'c'.repeat(40), { pool: diffPool }), RevisionNotFound);
    await assert.rejects(
      compare(fx.repo, git(fx.dir, ['rev-parse', 'main^{tree}']).trim(), id('main'), { pool: diffPool }),
      RevisionNotFound,
    );
  });
});

function treeOf(commit: string): string {
  return git(fx.dir, ['rev-parse', `${commit}^{tree}`]).trim();
}
