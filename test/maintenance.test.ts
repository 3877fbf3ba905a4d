// Maintenance seen from outside: real git pushes one commit at a time (a pack each), then
// `gitfleet maintenance run` compacts and fully repacks while the server runs; every clone
// before and after is the same repository, git's fsck finds nothing, and pushes go on. A
// second server with background maintenance on keeps the pack count down by itself.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli } from '@gitfleet/test-support/cli';
import { GitClient } from '@gitfleet/test-support/git-client';
import { serverForFile, serverTest, type TestServer } from '@gitfleet/test-support/server';
import { assertFsckClean, assertSameRepository } from './helpers/compare.js';

const PUSHES = 12;

interface PackStatus {
  packs: Array<{ checksum: string; kind: string; objects: number; sidecars?: string[] }>;
  next: string;
}

async function packStatus(server: TestServer, repo: string): Promise<PackStatus> {
  const result = await runCli(['maintenance', 'status', repo, '--json'], { ...server.cliEnv });
  assert.equal(result.code, 0, `maintenance status failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as PackStatus;
}

async function pushOneByOne(git: GitClient, url: string, work: string, count: number, label: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    await git.commitFiles(work, { [`${label}-${i}.txt`]: `${label} ${i}\n`.repeat(i + 1) }, `${label} ${i}`);
    await git.ok(['push', '-q', url, 'HEAD:refs/heads/main'], { cwd: work });
  }
}

let git: GitClient;
before(async () => {
  git = await GitClient.create(2);
});
after(async () => {
  await git?.cleanup();
});

describe('gitfleet maintenance run, beside a running server', () => {
  const server = serverForFile({ GITFLEET_MAINTENANCE: '0' });
  const it = serverTest(() => server);

  it(
    'compaction then a full repack keep every object, fewer packs each time',
    async () => {
      const url = await server.createRepo('upkeep', 'history');
      const work = await git.init('work');
      await pushOneByOne(git, url, work, PUSHES, 'push');
      await git.ok(['tag', '-a', 'v1', '-m', 'release'], { cwd: work });
      await git.ok(['push', '-q', url, 'v1'], { cwd: work });
      const before = await packStatus(server, 'upkeep/history');
      assert.equal(before.packs.length, PUSHES + 1, 'each push stores one pack');
      const reference = await git.clone(url, 'reference', ['--mirror']);

      const compacted = await runCli(['maintenance', 'run', 'upkeep/history', '--compact', '--json'], { ...server.cliEnv });
      assert.equal(compacted.code, 0, `compaction failed:\n${compacted.stderr}`);
      const afterCompaction = await packStatus(server, 'upkeep/history');
      assert.ok(
        afterCompaction.packs.length <= Math.ceil(Math.log2(PUSHES + 1)) + 1,
        `${afterCompaction.packs.length} packs after compaction of ${PUSHES + 1}: not logarithmic`,
      );
      const clonedAfterCompaction = await git.clone(url, 'after-compaction', ['--mirror']);
      await assertSameRepository(git, reference, clonedAfterCompaction);

      const repacked = await runCli(['maintenance', 'run', 'upkeep/history', '--full', '--json'], { ...server.cliEnv });
      assert.equal(repacked.code, 0, `full repack failed:\n${repacked.stderr}`);
      const afterRepack = await packStatus(server, 'upkeep/history');
      const main = afterRepack.packs.filter((pack) => pack.kind === 'repack');
      assert.equal(main.length, 1, `expected one repack pack: ${JSON.stringify(afterRepack.packs)}`);
      // Clones of it are now answered from its bitmap (the clone below), in git's formats.
      assert.deepEqual([...(main[0].sidecars ?? [])].sort(), ['bitmap', 'graph', 'rev']);
      assert.deepEqual(
        afterRepack.packs.filter((pack) => pack.kind !== 'repack' && pack.kind !== 'cruft'),
        [],
        'a full repack replaces every other pack',
      );
      const clonedAfterRepack = await git.clone(url, 'after-repack', ['--mirror']);
      await assertSameRepository(git, reference, clonedAfterRepack);
      // Shallow clones and deepening walk the repacked pack's commit-graph.
      const shallow = await git.clone(url, 'shallow-after-repack', ['--bare', '--depth', '2']);
      assert.equal((await git.ok(['rev-list', '--count', 'HEAD'], { cwd: shallow })).trim(), '2');
      await git.ok(['fetch', '-q', '--deepen', '3', 'origin'], { cwd: shallow });
      assert.equal((await git.ok(['rev-list', '--count', 'HEAD'], { cwd: shallow })).trim(), '5');
      await git.ok(['fetch', '-q', '--unshallow', 'origin'], { cwd: shallow });
      await assertFsckClean(git, shallow);
      assert.equal((await git.ok(['rev-list', '--count', 'HEAD'], { cwd: shallow })).trim(), String(PUSHES));

      // Life goes on: a push onto the repacked repository, and a fetch of it into the old clone.
      await pushOneByOne(git, url, work, 1, 'later');
      await git.ok(['fetch', '-q', 'origin'], { cwd: clonedAfterRepack });
      await assertFsckClean(git, clonedAfterRepack);
      assert.equal(await git.revParse(clonedAfterRepack, 'refs/heads/main'), await git.revParse(work, 'HEAD'));
    },
    { timeout: 240_000 },
  );

  it('refuses what it cannot do with the exit codes of the other commands', async () => {
    const missing = await runCli(['maintenance', 'run', 'nobody/nothing'], { ...server.cliEnv });
    assert.equal(missing.code, 3, missing.stderr);
    const both = await runCli(['maintenance', 'run', 'upkeep/history', '--full', '--compact'], { ...server.cliEnv });
    assert.equal(both.code, 2, both.stderr);
  });
});

describe('background maintenance', () => {
  const server = serverForFile({ GITFLEET_MAINTENANCE: '1' });
  const it = serverTest(() => server);

  it(
    'keeps the pack count down as pushes come, by itself',
    async () => {
      const url = await server.createRepo('busy', 'repo');
      const work = await git.init('busy');
      await pushOneByOne(git, url, work, 24, 'busy');
      let status = await packStatus(server, 'busy/repo');
      for (let waited = 0; status.next !== 'none' && waited < 60; waited++) {
        await sleep(500);
        status = await packStatus(server, 'busy/repo');
      }
      assert.ok(status.packs.length < 24, `${status.packs.length} packs after 24 pushes: nothing was compacted`);
      assert.equal(status.next, 'none', `maintenance still wanted after 30 s: ${JSON.stringify(status)}`);
      const clone = await git.clone(url, 'busy-clone');
      await assertFsckClean(git, clone);
      assert.equal(await git.revParse(clone, 'HEAD'), await git.revParse(work, 'HEAD'));
    },
    { timeout: 240_000 },
  );
});
