import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RevisionNotFound, defaultBranch, listBranches, listTags, resolveRevision, resolveRevisionPath } from '../src/index.js';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { buildFixture, git, type Fixture } from './fixture.js';

const dir = tempDir({ after }, 'browse');
let fx: Fixture;
before(async () => {
  fx = await buildFixture(dir);
});

const revParse = (revision: string) => git(fx.dir, ['rev-parse', '--verify', '--quiet', `${revision}^{commit}`]).trim();

describe('resolveRevision', () => {
  it('resolves names, full and short ids and ancestry suffixes as git rev-parse does', async () => {
    const main = revParse('main');
    const revisions = [
      'main',
      'feature',
      'orphan',
      'HEAD',
      'v1.0',
      'light',
      'refs/heads/feature',
      'refs/tags/v1.0',
      'heads/main',
      'tags/light',
      main,
      main.slice(0, 7),
      main.slice(0, 12).toUpperCase(),
      revParse('feature').slice(0, 8),
      'main~1',
      'main~2',
      'main~1^2',
      'main^1^',
      'main~1^2~1',
      'main^^2^',
      'v1.0^{}',
      'v1.0^{commit}',
      'HEAD~3',
      'main^0',
    ];
    for (const revision of revisions) {
      assert.equal(await resolveRevision(fx.repo, revision), revParse(revision), revision);
    }
  });

  it('finds the commit of a short id of an annotated tag object', async () => {
    const tagObject = git(fx.dir, ['rev-parse', 'v1.0']).trim();
    assert.equal(await resolveRevision(fx.repo, tagObject.slice(0, 9)), revParse('v1.0'));
  });

  it('refuses what names no commit, with a RevisionNotFound saying why', async () => {
    const tree = git(fx.dir, ['rev-parse', 'main^{tree}']).trim();
    const cases: Array<[string, RegExp]> = [
      ['nope', /no branch, tag or commit "nope"/],
      ['', /names nothing/],
      [tree, /names a tree, not a commit/],
      [tree.slice(0, 10), /names a tree/],
      ['blob-a', /names a blob/],
      ['0'.repeat(40), /no object 0000/],
      ['main~99', /has no parent 1/],
      ['main^3', /has no parent 3/],
      ['main^2', /has no parent 2/],
      ['main^{tree}', /cannot parse/],
      ['abc', /no branch, tag or commit "abc"/],
      [fx.collidingBlobs[0].slice(0, 4), /short id [0-9a-f]{4} is ambiguous/],
    ];
    for (const [revision, message] of cases) {
      await assert.rejects(
        resolveRevision(fx.repo, revision),
        (error: Error) => error instanceof RevisionNotFound && message.test(error.message),
        revision,
      );
    }
  });

  it('splits "<ref>/<path>" where the ref has slashes', async () => {
    // Not feature/x: git cannot have that branch beside "feature", and the ref store refuses it.
    await fx.repo.refs.update([{ name: 'refs/heads/topic/x', oldOid: '0'.repeat(40), newOid: revParse('feature') }], {
      atomic: true,
      message: 'test',
    });
    assert.deepEqual(await resolveRevisionPath(fx.repo, 'topic/x/docs/manual.txt'), {
      ref: 'topic/x',
      commit: revParse('feature'),
      path: 'docs/manual.txt',
    });
    assert.deepEqual(await resolveRevisionPath(fx.repo, 'main'), { ref: 'main', commit: revParse('main'), path: '' });
    const short = revParse('main~1').slice(0, 7);
    assert.deepEqual(await resolveRevisionPath(fx.repo, `${short}/src/app.js`), {
      ref: short,
      commit: revParse('main~1'),
      path: 'src/app.js',
    });
    await assert.rejects(resolveRevisionPath(fx.repo, 'nothing/here'), RevisionNotFound);
    await fx.repo.refs.update([{ name: 'refs/heads/topic/x', oldOid: revParse('feature'), newOid: '0'.repeat(40) }], {
      atomic: true,
      message: 'test',
    });
  });
});

describe('refs', () => {
  it('lists branches as git for-each-ref does', async () => {
    const expected = git(fx.dir, ['for-each-ref', '--format=%(refname:short) %(refname) %(objectname)', 'refs/heads/'])
      .trim()
      .split('\n')
      .map((line) => {
        const [name, ref, commit] = line.split(' ');
        return { name, ref, commit };
      });
    assert.deepEqual(await listBranches(fx.repo), expected);
  });

  it('lists tags peeled to their commits, leaving out tags of blobs', async () => {
    const tags = await listTags(fx.repo);
    assert.deepEqual(
      tags.map((tag) => tag.name),
      ['light', 'v1.0'],
    );
    const v1 = tags.find((tag) => tag.name === 'v1.0')!;
    assert.equal(v1.ref, 'refs/tags/v1.0');
    assert.equal(v1.commit, revParse('v1.0'));
    assert.equal(v1.tagObject, git(fx.dir, ['rev-parse', 'refs/tags/v1.0']).trim());
    const light = tags.find((tag) => tag.name === 'light')!;
    assert.equal(light.commit, revParse('light'));
    assert.equal(light.tagObject, undefined);
  });

  it('names the default branch and its commit, or no commit when unborn', async () => {
    assert.deepEqual(await defaultBranch(fx.repo), { name: 'main', commit: revParse('main') });
    await fx.repo.refs.setHead('refs/heads/trunk');
    try {
      assert.deepEqual(await defaultBranch(fx.repo), { name: 'trunk' });
      await assert.rejects(resolveRevision(fx.repo, 'HEAD'), /HEAD of o\/r points at refs\/heads\/trunk, which does not exist yet/);
    } finally {
      await fx.repo.refs.setHead('refs/heads/main');
    }
  });
});
