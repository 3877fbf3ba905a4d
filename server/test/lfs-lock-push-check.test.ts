/**
 * Locks enforced at push (lfs/locks/push-check.ts) through the real receive-pack, on histories
 * made by git: what counts as a change of a locked path (merges, commits already stored, tags),
 * whose locks bind whom, and the bound on the work.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import { receivePack } from '@gitfleet/protocol';
import { BlockCache, DeltaBaseCache, LockStore, PackIndexCache, type Repository } from '@gitfleet/repository';
import { MemoryKVStore, MemoryBlobStore } from '@gitfleet/storage';
import { git, gitText } from '@gitfleet/test-support/git';
import { TEST_PROTOCOL_LIMITS } from '@gitfleet/test-support/protocol-limits';
import { collect, parseResponse, pushRequest, requestStream, type PushCommandLine } from '@gitfleet/test-support/receive-pack-wire';
import { createRepository } from '@gitfleet/test-support/stores';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { lockedPathsPolicy } from '../src/lfs/locks/push-check.js';

type TestContext = Parameters<typeof tempDir>[0];

interface Fixture {
  repo: Repository;
  locks: LockStore;
  work: string;
  /** Commits the files (null removes one) on the work tree's current branch. */
  commit(files: Record<string, string | null>, message: string): string;
  /** Pushes `commands` as `pusher`, with the pack of `revs`; the report lines. */
  push(pusher: string, commands: PushCommandLine[], revs: string[], maxChecks?: number): Promise<string[]>;
}

async function fixture(t: TestContext): Promise<Fixture> {
  const dir = tempDir(t, 'push-check');
  const stores = {
    blobs: new MemoryBlobStore(),
    kv: new MemoryKVStore(),
    cache: new BlockCache({ blockSize: 4096, maxBytes: 1024 * 1024 }),
    indexes: new PackIndexCache({ maxBytes: 1024 * 1024 }),
    deltaBases: new DeltaBaseCache({ maxBytes: 1024 * 1024 }),
  };
  const repo = await createRepository(stores);
  const locks = new LockStore(stores.kv);
  const work = path.join(dir, 'work');
  git(dir, ['init', '-q', '-b', 'main', work]);
  let tick = 0;
  return {
    repo,
    locks,
    work,
    commit(files, message) {
      for (const [file, content] of Object.entries(files)) {
        const full = path.join(work, file);
        if (content === null) rmSync(full);
        else {
          mkdirSync(path.dirname(full), { recursive: true });
          writeFileSync(full, content);
        }
      }
      git(work, ['add', '-A']);
      // Distinct dates: two commits of the same change stay two commits.
      const date = `${1_700_000_000 + ++tick} +0000`;
      git(work, ['commit', '-q', '--allow-empty', '-m', message], undefined, { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
      return gitText(work, ['rev-parse', 'HEAD']);
    },
    async push(pusher, commands, revs, maxChecks = 1000) {
      const pack = git(work, ['pack-objects', '--stdout', '--revs', '--quiet'], `${revs.join('\n')}\n`);
      const policy = lockedPathsPolicy(repo, locks, pusher, maxChecks);
      const response = await receivePack(repo, requestStream(pushRequest(commands, { pack })), {
        limits: TEST_PROTOCOL_LIMITS,
        spoolDir: path.join(dir, 'spool'),
        refuseUpdate: (update, pushed) => policy.refuseUpdate(update, pushed),
      });
      return parseResponse(await collect(response), true).report;
    },
  };
}

const create = (ref: string, oid: string): PushCommandLine => ({ old: ZERO_OID, new: oid, ref });
const update = (ref: string, from: string, to: string): PushCommandLine => ({ old: from, new: to, ref });

describe('locks enforced at push', () => {
  it("lets a merge that takes the holder's stored change through, and refuses one that makes a change of its own", async (t) => {
    const f = await fixture(t);
    const base = f.commit({ 'art/hero.psd': 'v1', 'src/app.txt': 'a' }, 'base');
    assert.deepEqual(await f.push('bob', [create('refs/heads/main', base)], [base]), ['unpack ok', 'ok refs/heads/main']);
    await f.locks.create(f.repo.info.id, 'art/hero.psd', 'Ada');

    git(f.work, ['checkout', '-q', '-b', 'side']);
    const side = f.commit({ 'art/hero.psd': 'v2 by ada' }, 'ada edits');
    // The holder pushes, spelled as she likes.
    assert.deepEqual(await f.push('ada', [create('refs/heads/side', side)], [side, `^${base}`]), ['unpack ok', 'ok refs/heads/side']);

    git(f.work, ['checkout', '-q', 'main']);
    f.commit({ 'src/app.txt': 'b' }, 'bob edits');
    git(f.work, ['merge', '-q', '--no-edit', 'side'], undefined, {
      GIT_AUTHOR_DATE: '1800000000 +0000',
      GIT_COMMITTER_DATE: '1800000000 +0000',
    });
    const merge = gitText(f.work, ['rev-parse', 'HEAD']);
    const evil = f.commit({ 'art/hero.psd': 'v3 by bob' }, 'bob edits the locked file after merging');

    // A fast-forward onto commits already stored checks nothing new.
    assert.deepEqual(await f.push('bob', [create('refs/heads/copy', side)], [side, `^${side}`]), ['unpack ok', 'ok refs/heads/copy']);
    assert.deepEqual(await f.push('bob', [update('refs/heads/main', base, merge)], [merge, `^${side}`]), [
      'unpack ok',
      'ok refs/heads/main',
    ]);
    const refused = await f.push('bob', [update('refs/heads/main', merge, evil), create('refs/tags/v1', evil)], [evil, `^${merge}`]);
    assert.equal(refused[0], 'unpack ok');
    assert.match(
      refused[1],
      /^ng refs\/heads\/main art\/hero\.psd is locked by Ada \(lock [0-9a-f]+\) and commit [0-9a-f]{12} changes it$/,
    );
    assert.match(refused[2], /^ng refs\/tags\/v1 art\/hero\.psd is locked by Ada/);
    assert.equal(await f.repo.refs.get('refs/heads/main'), merge);
  });

  it('looks up nested locked paths, a locked directory among them, and paths that appear or turn into directories', async (t) => {
    const f = await fixture(t);
    const base = f.commit({ 'art/hero.psd': 'v1', 'art/sub/deep.psd': 'd', 'docs/a.txt': 'a', 'docs/b.txt': 'b' }, 'base');
    assert.deepEqual(await f.push('bob', [create('refs/heads/main', base)], [base]), ['unpack ok', 'ok refs/heads/main']);
    const id = f.repo.info.id;
    await f.locks.create(id, 'art/sub/deep.psd', 'ada');
    await f.locks.create(id, 'docs', 'cy');
    await f.locks.create(id, 'new/file.bin', 'ada');
    await f.locks.create(id, 'art/hero.psd/inside', 'ada');

    const refusals: Record<string, string> = {};
    const attempts: Record<string, Record<string, string | null>> = {
      free: { 'art/hero.psd': 'v2', 'art/sub/other.psd': 'o' },
      deep: { 'art/sub/deep.psd': 'd2' },
      directory: { 'docs/b.txt': null },
      appears: { 'new/file.bin': 'n' },
      becomesDirectory: { 'art/hero.psd': null, 'art/hero.psd/inside': 'i' },
    };
    for (const [branch, files] of Object.entries(attempts)) {
      git(f.work, ['checkout', '-q', '-b', branch, base]);
      const tip = f.commit(files, branch);
      const [, line] = await f.push('bob', [create(`refs/heads/${branch}`, tip)], [tip, `^${base}`]);
      refusals[branch] = line.replace(/ \(lock [0-9a-f]+\) and commit [0-9a-f]+ changes it$/, '');
    }
    assert.deepEqual(refusals, {
      free: 'ok refs/heads/free',
      deep: 'ng refs/heads/deep art/sub/deep.psd is locked by ada',
      directory: 'ng refs/heads/directory docs is locked by cy',
      appears: 'ng refs/heads/appears new/file.bin is locked by ada',
      becomesDirectory: 'ng refs/heads/becomesDirectory art/hero.psd/inside is locked by ada',
    });
  });

  it('refuses a ref whose new commits times the locks exceed the bound, and checks nothing for a repository without locks', async (t) => {
    const f = await fixture(t);
    const base = f.commit({ 'a.txt': '0' }, 'base');
    assert.deepEqual(await f.push('bob', [create('refs/heads/main', base)], [base], 1), ['unpack ok', 'ok refs/heads/main']);
    let tip = base;
    for (let n = 1; n <= 6; n++) tip = f.commit({ 'a.txt': String(n) }, `commit ${n}`);
    // No locks: no bound applies.
    assert.deepEqual(await f.push('bob', [create('refs/heads/free', tip)], [tip, `^${base}`], 1), ['unpack ok', 'ok refs/heads/free']);

    await f.locks.create(f.repo.info.id, 'elsewhere.bin', 'ada');
    await f.locks.create(f.repo.info.id, 'other.bin', 'ada');
    git(f.work, ['checkout', '-q', '-b', 'next', base]);
    let next = base;
    for (let n = 1; n <= 6; n++) next = f.commit({ 'b.txt': String(n) }, `next ${n}`);
    const over = await f.push('bob', [create('refs/heads/next', next)], [next, `^${base}`], 10);
    assert.deepEqual(over, [
      'unpack ok',
      'ng refs/heads/next the push brings more than 5 new commits to check against 2 locked paths; push fewer commits at a time',
    ]);
    assert.deepEqual(await f.push('bob', [create('refs/heads/next', next)], [next, `^${base}`], 12), ['unpack ok', 'ok refs/heads/next']);
  });
});
