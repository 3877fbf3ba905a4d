import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RevisionNotFound, log, readCommit } from '../src/index.js';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { buildFixture, git, type Fixture } from './fixture.js';

const dir = tempDir({ after }, 'browse');
let fx: Fixture;
before(async () => {
  fx = await buildFixture(dir);
});

const lines = (text: string) => text.split('\n').filter((line) => line !== '');

describe('readCommit', () => {
  it('gives what git log prints: ids, people, ISO dates with their own offsets, the message', async () => {
    for (const oid of lines(git(fx.dir, ['rev-list', '--all']))) {
      const [tree, parents, an, ae, aI, cn, ce, cI] = git(fx.dir, [
        'log',
        '-1',
        '--format=%T%n%P%n%an%n%ae%n%aI%n%cn%n%ce%n%cI',
        oid,
      ]).split('\n');
      const commit = await readCommit(fx.repo, oid);
      assert.equal(commit.oid, oid);
      assert.equal(commit.tree, tree);
      assert.deepEqual(commit.parents, parents === '' ? [] : parents.split(' '));
      assert.deepEqual(commit.author, { name: an, email: ae, date: aI });
      assert.deepEqual(commit.committer, { name: cn, email: ce, date: cI });
      assert.equal(commit.message, git(fx.dir, ['cat-file', 'commit', oid]).split('\n\n').slice(1).join('\n\n'));
    }
    const first = await readCommit(fx.repo, git(fx.dir, ['rev-list', '--max-parents=0', 'main']).trim());
    assert.equal(first.message, 'Initial commit\n\nWith a body.\n');
    assert.match(first.author.date, /-05:30$/);
    assert.match(first.committer.date, /\+02:00$/);
  });

  it('refuses an id that is not a commit', async () => {
    const tree = git(fx.dir, ['rev-parse', 'main^{tree}']).trim();
    await assert.rejects(readCommit(fx.repo, tree), RevisionNotFound);
    await assert.rejects(readCommit(fx.repo, 'f'.repeat(40)), RevisionNotFound);
  });
});

describe('log', () => {
  it('pages through history in git log order', async () => {
    for (const branch of ['main', 'feature', 'v1.0']) {
      const start = git(fx.dir, ['rev-parse', `${branch}^{commit}`]).trim();
      const all = lines(git(fx.dir, ['log', '--format=%H', branch]));
      for (const limit of [1, 2, 3, 10]) {
        for (let skip = 0; skip <= all.length; skip += limit) {
          const page = await log(fx.repo, start, { limit, skip });
          assert.deepEqual(
            page.commits.map((c) => c.oid),
            all.slice(skip, skip + limit),
            `${branch} skip ${skip} limit ${limit}`,
          );
          assert.equal(page.hasMore, skip + limit < all.length, `${branch} skip ${skip} limit ${limit} hasMore`);
        }
      }
    }
  });

  it('filters by path as git log -- path does (history simplification through merges)', async () => {
    const main = git(fx.dir, ['rev-parse', 'main']).trim();
    const paths = [
      'src/app.js',
      'src',
      'docs',
      'docs/manual.txt',
      'docs/guide.txt',
      'crlf.txt',
      'README.md',
      'feature.txt',
      'vendor/lib',
      'no-newline.txt',
      'dossier/été.txt',
      'missing',
      '/src/',
    ];
    for (const path of paths) {
      const expected = lines(git(fx.dir, ['log', '--format=%H', 'main', '--', path.replace(/^\/|\/$/g, '')]));
      const page = await log(fx.repo, main, { limit: 100, path });
      assert.deepEqual(
        page.commits.map((c) => c.oid),
        expected,
        path,
      );
      assert.equal(page.hasMore, false);
      if (expected.length > 1) {
        const second = await log(fx.repo, main, { limit: 1, skip: 1, path });
        assert.deepEqual(
          second.commits.map((c) => c.oid),
          [expected[1]],
          `${path} second page`,
        );
        assert.equal(second.hasMore, expected.length > 2);
      }
    }
  });

  it('stops a path search at maxScan commits and says so', async () => {
    const main = git(fx.dir, ['rev-parse', 'main']).trim();
    const page = await log(fx.repo, main, { limit: 10, path: 'docs/guide.txt', maxScan: 2 });
    assert.deepEqual(page.commits, []);
    assert.equal(page.hasMore, false);
    assert.equal(page.scanLimitReached, true);
  });

  it('refuses a start that is not a commit', async () => {
    await assert.rejects(log(fx.repo, 'e'.repeat(40), { limit: 5 }), RevisionNotFound);
  });
});
