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
  const locks = new LockStore(stores.kv, stores.blobs);
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

/** Commits `files` as main's first commit and pushes it as `pusher`, before any lock is taken. */
async function pushBase(f: Fixture, files: Record<string, string>, pusher: string): Promise<string> {
  const base = f.commit(files, 'base');
  assert.deepEqual(await f.push(pusher, [create('refs/heads/main', base)], [base]), ['unpack ok', 'ok refs/heads/main']);
  return base;
}

describe('locks enforced at push', () => {
  it("refuses others a change of a locked path, brought by their commits or by merging the holder's, and lets the holder merge it", async (t) => {
    const f = await fixture(t);
    const base = await pushBase(f, { 'art/hero.psd': 'v1', 'src/app.txt': 'a' }, 'bob');
    await f.locks.create(f.repo.info.id, 'art/hero.psd', 'Ada');

    git(f.work, ['checkout', '-q', '-b', 'side']);
    const side = f.commit({ 'art/hero.psd': 'v2 by ada' }, 'ada edits');
    // The holder pushes, spelled as she likes.
    assert.deepEqual(await f.push('ada', [create('refs/heads/side', side)], [side, `^${base}`]), ['unpack ok', 'ok refs/heads/side']);

    git(f.work, ['checkout', '-q', 'main']);
    const bobs = f.commit({ 'src/app.txt': 'b' }, 'bob edits');
    git(f.work, ['merge', '-q', '--no-edit', 'side'], undefined, {
      GIT_AUTHOR_DATE: '1800000000 +0000',
      GIT_COMMITTER_DATE: '1800000000 +0000',
    });
    const merge = gitText(f.work, ['rev-parse', 'HEAD']);
    const evil = f.commit({ 'art/hero.psd': 'v3 by bob' }, 'bob edits the locked file after merging');

    // A new ref onto commits already stored changes no branch; bringing the holder's change onto main does.
    assert.deepEqual(await f.push('bob', [create('refs/heads/copy', side)], [side, `^${side}`]), ['unpack ok', 'ok refs/heads/copy']);
    const [, broughtByBob] = await f.push('bob', [update('refs/heads/main', base, merge)], [merge, `^${side}`]);
    assert.match(
      broughtByBob,
      /^ng refs\/heads\/main art\/hero\.psd is locked by Ada \(lock [0-9a-f]+\) and the update from [0-9a-f]{12} to [0-9a-f]{12} changes it$/,
    );
    assert.deepEqual(await f.push('ada', [update('refs/heads/main', base, merge)], [merge, `^${side}`]), [
      'unpack ok',
      'ok refs/heads/main',
    ]);
    assert.deepEqual(await f.push('bob', [create('refs/heads/bobs', bobs)], [bobs, `^${merge}`]), ['unpack ok', 'ok refs/heads/bobs']);

    const refused = await f.push('bob', [update('refs/heads/main', merge, evil), create('refs/tags/v1', evil)], [evil, `^${merge}`]);
    assert.equal(refused[0], 'unpack ok');
    assert.match(
      refused[1],
      /^ng refs\/heads\/main art\/hero\.psd is locked by Ada \(lock [0-9a-f]+\) and commit [0-9a-f]{12} changes it$/,
    );
    assert.match(refused[2], /^ng refs\/tags\/v1 art\/hero\.psd is locked by Ada/);
    assert.equal(await f.repo.refs.get('refs/heads/main'), merge);
  });

  it('judges commits a refused push left stored when a later push brings them again, with no pack or under a merge', async (t) => {
    const f = await fixture(t);
    const base = await pushBase(f, { 'art/hero.psd': 'v1', 'src/app.txt': 'a' }, 'alice');
    await f.locks.create(f.repo.info.id, 'art/hero.psd', 'bob');
    const evil = f.commit({ 'art/hero.psd': 'alice edits the locked file' }, 'evil');
    const refusal = /^ng refs\/heads\/\w+ art\/hero\.psd is locked by bob \(lock [0-9a-f]+\) and commit [0-9a-f]{12} changes it$/;
    const [, first] = await f.push('alice', [update('refs/heads/main', base, evil)], [evil, `^${base}`]);
    assert.match(first, refusal);

    // The same update again: its commit is stored now, and the pack is empty.
    const [, again] = await f.push('alice', [update('refs/heads/main', base, evil)], [evil, `^${evil}`]);
    assert.match(again, refusal);
    const [, elsewhere] = await f.push('alice', [create('refs/heads/elsewhere', evil)], [evil, `^${evil}`]);
    assert.match(elsewhere, refusal);
    // A merge whose tree is the stored commit's: the merge itself takes a side's version, the side is new.
    const evilTree = gitText(f.work, ['rev-parse', `${evil}^{tree}`]);
    const laundered = gitText(f.work, ['commit-tree', evilTree, '-p', base, '-p', evil, '-m', 'launder']);
    const [, merged] = await f.push('alice', [update('refs/heads/main', base, laundered)], [laundered, `^${evil}`]);
    assert.match(merged, refusal);
    assert.equal(await f.repo.refs.get('refs/heads/main'), base);
    assert.equal(await f.repo.refs.get('refs/heads/elsewhere'), undefined);
  });

  it('refuses moving a branch onto history that changed a locked path before the lock was taken', async (t) => {
    const f = await fixture(t);
    const base = await pushBase(f, { 'art/hero.psd': 'v1', 'src/app.txt': 'a' }, 'alice');
    git(f.work, ['checkout', '-q', '-b', 'feature']);
    const feature = f.commit({ 'art/hero.psd': 'v2 by alice' }, 'alice edits before the lock');
    assert.deepEqual(await f.push('alice', [create('refs/heads/feature', feature)], [feature, `^${base}`]), [
      'unpack ok',
      'ok refs/heads/feature',
    ]);
    await f.locks.create(f.repo.info.id, 'art/hero.psd', 'bob');

    git(f.work, ['checkout', '-q', 'main']);
    f.commit({ 'src/app.txt': 'b' }, 'alice edits elsewhere');
    git(f.work, ['merge', '-q', '--no-edit', 'feature'], undefined, {
      GIT_AUTHOR_DATE: '1800000000 +0000',
      GIT_COMMITTER_DATE: '1800000000 +0000',
    });
    const merge = gitText(f.work, ['rev-parse', 'HEAD']);
    // A commit that puts the file back as base had it, with base as an extra parent to look unchanged.
    const baseTree = gitText(f.work, ['rev-parse', `${base}^{tree}`]);
    const crafted = gitText(f.work, ['commit-tree', baseTree, '-p', feature, '-p', base, '-m', 'crafted']);
    const tipChange =
      /^ng refs\/heads\/\w+ art\/hero\.psd is locked by bob \(lock [0-9a-f]+\) and the update from [0-9a-f]{12} to [0-9a-f]{12} changes it$/;

    const results = {
      fastForward: await f.push('alice', [update('refs/heads/main', base, feature)], [feature, `^${feature}`]),
      merge: await f.push('alice', [update('refs/heads/main', base, merge)], [merge, `^${feature}`]),
      // A new name for stored history changes no branch.
      newRef: await f.push('alice', [create('refs/heads/release', feature)], [feature, `^${feature}`]),
    };
    assert.match(results.fastForward[1], tipChange);
    assert.match(results.merge[1], tipChange);
    assert.deepEqual(results.newRef, ['unpack ok', 'ok refs/heads/release']);
    const [, back] = await f.push('alice', [update('refs/heads/feature', feature, crafted)], [crafted, `^${feature}`]);
    assert.match(back, tipChange);
    assert.equal(await f.repo.refs.get('refs/heads/main'), base);
  });

  it('compares paths folded: a lock covers every case and Unicode spelling of its path in a tree', async (t) => {
    const f = await fixture(t);
    const base = await pushBase(f, { 'Art/Caf\u00e9/Hero.psd': 'v1', 'art/other.txt': 'o' }, 'bob');
    await f.locks.create(f.repo.info.id, 'art/cafe\u0301/hero.psd', 'ada');
    const attempts: Record<string, Record<string, string | null>> = {
      edit: { 'Art/Caf\u00e9/Hero.psd': 'v2' },
      otherSpelling: { 'ART/Caf\u00e9/HERO.psd': 'added beside it' },
      free: { 'art/other.txt': 'o2' },
    };
    const results: Record<string, string> = {};
    for (const [branch, files] of Object.entries(attempts)) {
      git(f.work, ['checkout', '-q', '-b', branch, base]);
      const tip = f.commit(files, branch);
      const [, line] = await f.push('bob', [update('refs/heads/main', base, tip)], [tip, `^${base}`]);
      results[branch] = line.replace(/ \(lock [0-9a-f]+\) and commit [0-9a-f]+ changes it$/, '');
    }
    assert.deepEqual(results, {
      edit: 'ng refs/heads/main art/cafe\u0301/hero.psd is locked by ada',
      otherSpelling: 'ng refs/heads/main art/cafe\u0301/hero.psd is locked by ada',
      free: 'ok refs/heads/main',
    });
  });

  it('looks up nested locked paths, a locked directory among them, and paths that appear or turn into directories', async (t) => {
    const f = await fixture(t);
    const base = await pushBase(f, { 'art/hero.psd': 'v1', 'art/sub/deep.psd': 'd', 'docs/a.txt': 'a', 'docs/b.txt': 'b' }, 'bob');
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

  it('spends one budget of tree lookups × locks on the whole push, refusing the ref that passes it and every ref after', async (t) => {
    const f = await fixture(t);
    const base = f.commit({ 'a.txt': '0' }, 'base');
    assert.deepEqual(await f.push('bob', [create('refs/heads/main', base)], [base], 1), ['unpack ok', 'ok refs/heads/main']);
    let tip = base;
    for (let n = 1; n <= 6; n++) tip = f.commit({ 'a.txt': String(n) }, `commit ${n}`);
    // No locks: no bound applies.
    assert.deepEqual(await f.push('bob', [create('refs/heads/free', tip)], [tip, `^${base}`], 1), ['unpack ok', 'ok refs/heads/free']);

    await f.locks.create(f.repo.info.id, 'elsewhere.bin', 'ada');
    await f.locks.create(f.repo.info.id, 'other.bin', 'ada');
    const branch = (name: string, commits: number) => {
      git(f.work, ['checkout', '-q', '-b', name, base]);
      let head = base;
      for (let n = 1; n <= commits; n++) head = f.commit({ [`${name}.txt`]: String(n) }, `${name} ${n}`);
      return head;
    };
    const over = 'the push brings more new commits than 23 checks cover against 2 locked paths; push fewer commits at a time';
    // Six commits of one parent each: 6 × 2 lookups × 2 locks = 24 checks.
    const next = branch('next', 6);
    // Fewer checks than commits × locks: the walk for new commits stops before any lookup.
    assert.deepEqual(await f.push('bob', [create('refs/heads/next', next), create('refs/heads/old', base)], [next, `^${base}`], 11), [
      'unpack ok',
      `ng refs/heads/next ${over.replace('23', '11')}`,
      `ng refs/heads/old ${over.replace('23', '11')}`,
    ]);
    assert.deepEqual(await f.push('bob', [create('refs/heads/next', next)], [next, `^${base}`], 23), [
      'unpack ok',
      `ng refs/heads/next ${over}`,
    ]);
    assert.deepEqual(await f.push('bob', [create('refs/heads/next', next)], [next, `^${base}`], 24), ['unpack ok', 'ok refs/heads/next']);

    // Two refs of three commits (12 checks each): the second passes the budget, the third ref is refused with it however cheap.
    const one = branch('one', 3);
    const two = branch('two', 3);
    const threeRefs = await f.push(
      'bob',
      [create('refs/heads/one', one), create('refs/heads/two', two), create('refs/heads/old', base)],
      [one, two, `^${base}`],
      23,
    );
    assert.deepEqual(threeRefs, ['unpack ok', 'ok refs/heads/one', `ng refs/heads/two ${over}`, `ng refs/heads/old ${over}`]);

    // A merge is looked up in its tree and each parent's: 3 lookups × 2 locks, and the old and new tips 2 × 2 more.
    assert.deepEqual(await f.push('bob', [create('refs/heads/two', two)], [two, `^${base}`], 12), ['unpack ok', 'ok refs/heads/two']);
    git(f.work, ['checkout', '-q', 'two']);
    git(f.work, ['merge', '-q', '--no-edit', 'one'], undefined, {
      GIT_AUTHOR_DATE: '1800000000 +0000',
      GIT_COMMITTER_DATE: '1800000000 +0000',
    });
    const merge = gitText(f.work, ['rev-parse', 'HEAD']);
    const mergeOver = over.replace('23', '9');
    assert.deepEqual(await f.push('bob', [update('refs/heads/one', one, merge)], [merge, `^${one}`, `^${two}`], 9), [
      'unpack ok',
      `ng refs/heads/one ${mergeOver}`,
    ]);
    assert.deepEqual(await f.push('bob', [update('refs/heads/one', one, merge)], [merge, `^${one}`, `^${two}`], 10), [
      'unpack ok',
      'ok refs/heads/one',
    ]);
  });
});
