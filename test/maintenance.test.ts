// Maintenance seen from outside: real git pushes one commit at a time (a pack each), then
// `gitfleet maintenance run` compacts and fully repacks while the server runs; every clone
// before and after is the same repository, git's fsck finds nothing, and pushes go on. A
// second server with background maintenance on keeps the pack count down by itself, in child
// processes of its own CLI, which it stops when it stops.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli } from '@gitfleet/test-support/cli';
import { GitClient } from '@gitfleet/test-support/git-client';
import { serverForFile, serverTest, startServer, type ServerProcess, type TestServer } from '@gitfleet/test-support/server';
import { assertFsckClean, assertSameRepository } from './helpers/compare.js';
import { FastImport, textBlob } from './helpers/history.js';

const PUSHES = 12;
const COMMITS_OF_LARGE = 1000;
const FILES_PER_COMMIT = 50;

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

interface LogRecord {
  msg?: string;
  pid?: number;
  repo?: string;
  maintainer?: number;
  [field: string]: unknown;
}

/** The server's JSON log lines (pino, on its stdout) among the last ones it wrote. */
function logRecords(server: TestServer): LogRecord[] {
  return server
    .logTail()
    .split('\n')
    .filter((line) => line.startsWith('[stdout] {'))
    .map((line) => JSON.parse(line.slice('[stdout] '.length)) as LogRecord);
}

/** The first log record `matches` accepts, waiting for it as long as the server runs (a minute at most). */
async function waitForLog(server: TestServer, what: string, matches: (record: LogRecord) => boolean): Promise<LogRecord> {
  for (let waited = 0; waited < 600 && server.alive(); waited++) {
    const found = logRecords(server).find(matches);
    if (found) return found;
    await sleep(100);
  }
  throw new Error(`the server never logged ${what}`);
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
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
      assert.deepEqual([...(main[0].sidecars ?? [])].sort(), ['bitmap', 'graph', 'rev', 'tips']);
      assert.deepEqual(
        afterRepack.packs.filter((pack) => pack.kind !== 'repack' && pack.kind !== 'cruft'),
        [],
        'a full repack replaces every other pack',
      );
      const clonedAfterRepack = await git.clone(url, 'after-repack', ['--mirror']);
      await assertSameRepository(git, reference, clonedAfterRepack);
      // Nothing pushed since: the same packs, byte for byte, stay in place.
      const again = await runCli(['maintenance', 'run', 'upkeep/history', '--full', '--json'], { ...server.cliEnv });
      assert.equal(again.code, 0, `second full repack failed:\n${again.stderr}`);
      const checksums = (status: PackStatus) => status.packs.map((pack) => pack.checksum).sort();
      assert.deepEqual(checksums(await packStatus(server, 'upkeep/history')), checksums(afterRepack));
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

      // Compactions of a few small packs ran in the server's own process (a child would cost more
      // than the run); large runs go to a child (below). The log names the process of each.
      const runs = logRecords(server).filter((record) => record.msg === 'repository maintained' && record.repo !== undefined);
      assert.ok(runs.length > 0, 'the server logged no maintenance run');
      for (const run of runs) assert.equal(run.maintainer, run.pid, `a small run left the server process: ${JSON.stringify(run)}`);
    },
    { timeout: 240_000 },
  );
});

describe('background maintenance, when the server stops', () => {
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.stop();
  });
  const it = serverTest(() => server);

  it(
    'stops its running child, which releases the lease: a maintenance run right after succeeds',
    async () => {
      server = await startServer({ GITFLEET_MAINTENANCE: '1', LOG_LEVEL: 'debug' });
      const { url, id } = await server.createRepository('upkeep', 'large');
      // Enough objects that the push makes maintenance choose a full repack, which lasts seconds.
      // Each commit's files in a directory of their own keep every tree small: building and
      // pushing the history takes seconds, where growing flat directories took tens of seconds.
      const history = new FastImport();
      for (let commit = 0; commit < COMMITS_OF_LARGE; commit++) {
        const files: Record<string, string> = {};
        for (let file = 0; file < FILES_PER_COMMIT; file++)
          files[`dir-${commit % 20}/commit-${commit}/file-${file}.txt`] = textBlob(commit * 1000 + file, 20);
        history.commit({ ref: 'refs/heads/main', message: `commit ${commit}`, time: 1_700_000_000 + commit, files });
      }
      const work = await git.init('large', { bare: true });
      await history.run(git, work);
      await git.ok(['push', '-q', url, 'main'], { cwd: work });

      // A progress line comes from the child once it holds the lease and is planning its run.
      const progress = await waitForLog(server, 'progress of a maintenance child', (record) => record.msg === 'maintenance progress');
      const child = progress.maintainer!;
      assert.notEqual(child, progress.pid);
      await server.kill('SIGTERM');

      const records = logRecords(server);
      assert.ok(
        records.some((record) => record.msg === 'maintenance stopped' && record.maintainer === child),
        `the run was not stopped (it finished first, or failed): ${JSON.stringify(records.filter((record) => record.repo === id))}`,
      );
      assert.equal(processExists(child), false, `maintenance process ${child} outlived the server`);
      const run = await runCli(['maintenance', 'run', 'upkeep/large', '--json'], { ...server.cliEnv });
      assert.equal(run.code, 0, `maintenance run after the server stopped:\n${run.stderr}`);
      assert.equal((JSON.parse(run.stdout) as { ran: boolean; action: string }).action, 'full');
    },
    { timeout: 240_000 },
  );
});
