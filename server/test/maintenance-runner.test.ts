// The parts of background maintenance beside the scheduler: the memo of the collection check,
// the bounded reading of a child's output, how the server runs its own CLI, and a child run's
// outcomes when it cannot maintain (the runs themselves are in test/maintenance.test.ts).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { Repository } from '@gitfleet/repository';
import { BoundedBytes, LineTail, runMaintenanceChild } from '../src/maintenance/child-runner.js';
import { CollectionCheck } from '../src/maintenance/collection-check.js';
import { ownCliCommand } from '../src/maintenance/own-cli.js';

function repository(id: string, owner = 'o', name = id): Repository {
  return { info: { id, owner, name, createdAt: '2026-01-01T00:00:00Z', private: false, description: '' } } as Repository;
}

/** A collection check over answers the test sets, counting the scans it makes. */
function countingCheck(options: { recheckMs?: number; maxRepositories?: number } = {}) {
  const due = new Set<string>();
  const scans: string[] = [];
  let now = 0;
  const check = new CollectionCheck(
    async (repo) => {
      scans.push(repo.info.id);
      return due.has(repo.info.id);
    },
    { ...options, now: () => now },
  );
  return { check, due, scans, advance: (ms: number) => (now += ms) };
}

describe('CollectionCheck', () => {
  it('scans a repository with nothing due at most once per recheck period', async () => {
    const { check, scans, advance } = countingCheck({ recheckMs: 60_000 });
    for (let push = 0; push < 5; push++) assert.equal(await check.due(repository('a')), false);
    assert.deepEqual(scans, ['a']);
    advance(59_999);
    await check.due(repository('a'));
    assert.deepEqual(scans, ['a']);
    advance(1);
    await check.due(repository('a'));
    assert.deepEqual(scans, ['a', 'a'], 'the answer is asked again once the period is over');
  });

  it('never remembers a "due": every check scans until a run collected', async () => {
    const { check, due, scans } = countingCheck();
    due.add('a');
    assert.equal(await check.due(repository('a')), true);
    assert.equal(await check.due(repository('a')), true);
    assert.deepEqual(scans, ['a', 'a']);
  });

  it('remembers at most maxRepositories answers, forgetting the oldest first', async () => {
    const { check, scans } = countingCheck({ maxRepositories: 2 });
    for (const id of ['a', 'b', 'c']) await check.due(repository(id));
    scans.length = 0;
    for (const id of ['b', 'c', 'a']) await check.due(repository(id));
    assert.deepEqual(scans, ['a'], 'b and c are remembered; a, the oldest, was forgotten');
  });
});

describe('LineTail', () => {
  it('hands over whole lines across chunks and keeps the last ones', () => {
    const seen: string[] = [];
    const tail = new LineTail(2, 100, (line) => seen.push(line));
    tail.add('one\ntw');
    tail.add('o\nthree\nfou');
    tail.end();
    assert.deepEqual(seen, ['one', 'two', 'three', 'fou']);
    assert.deepEqual(tail.lines(), ['three', 'fou']);
  });

  it('cuts a line without a newline to its bound, however much arrives', () => {
    const seen: string[] = [];
    const tail = new LineTail(2, 10, (line) => seen.push(line));
    for (let i = 0; i < 1000; i++) tail.add('x'.repeat(1000));
    tail.add('\n');
    assert.deepEqual(seen, ['x'.repeat(10)]);
  });
});

describe('BoundedBytes', () => {
  it('gives the bytes up to the bound, and nothing past it', () => {
    const within = new BoundedBytes(8);
    within.add(Buffer.from('{"a"'));
    within.add(Buffer.from(':1}'));
    assert.equal(within.text(), '{"a":1}');
    const past = new BoundedBytes(8);
    past.add(Buffer.from('{"a":1, "b"'));
    past.add(Buffer.from('}'));
    assert.equal(past.text(), undefined);
  });
});

describe('ownCliCommand', () => {
  it("runs this process's node, with its options, on the CLI beside the server's modules", () => {
    const { file, args } = ownCliCommand(['maintenance', 'run', 'o/r']);
    assert.equal(file, process.execPath);
    const entry = args.at(-4)!;
    assert.equal(entry, path.resolve(import.meta.dirname, '../src/cli.ts'));
    assert.ok(existsSync(entry));
    assert.deepEqual(
      args.slice(0, -4),
      process.execArgv.filter((option) => !option.startsWith('--inspect')),
    );
    assert.deepEqual(args.slice(-3), ['maintenance', 'run', 'o/r']);
  });
});

describe('runMaintenanceChild', () => {
  const logger = pino({ level: 'silent' });
  const NO_LIMIT_MS = 10 * 60_000;

  /** An environment of a fresh embedded server with no repository. */
  async function emptyServerEnv(): Promise<{ env: NodeJS.ProcessEnv; dispose(): Promise<void> }> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gitfleet-maintenance-child-'));
    return {
      env: { ...process.env, GITFLEET_DATA_DIR: dataDir, GITFLEET_BLOB_BACKEND: 'fs', GITFLEET_KV_BACKEND: 'sqlite' },
      dispose: () => rm(dataDir, { recursive: true, force: true }),
    };
  }

  it('a repository gone before its run started did not run, and is no failure', async () => {
    const server = await emptyServerEnv();
    try {
      const outcome = await runMaintenanceChild(repository('0123', 'o', 'gone'), new AbortController().signal, {
        env: server.env,
        logger,
        maxRunMs: NO_LIMIT_MS,
      });
      assert.equal(outcome.ran, false);
      assert.equal(typeof outcome.pid, 'number');
      assert.notEqual(outcome.pid, process.pid);
    } finally {
      await server.dispose();
    }
  });

  it('a child that fails says why: its exit and the end of its stderr', async () => {
    const server = await emptyServerEnv();
    try {
      await assert.rejects(
        runMaintenanceChild(repository('0123'), new AbortController().signal, {
          env: { ...server.env, GITFLEET_KV_BACKEND: 'nonsense' },
          logger,
          maxRunMs: NO_LIMIT_MS,
        }),
        /maintenance of o\/0123 in child process \d+ exited with code 1; its stderr ended with:\n.*GITFLEET_KV_BACKEND/s,
      );
    } finally {
      await server.dispose();
    }
  });

  it('an abort stops the child and rejects with its reason', async () => {
    const server = await emptyServerEnv();
    try {
      const controller = new AbortController();
      const run = runMaintenanceChild(repository('0123'), controller.signal, {
        env: server.env,
        logger,
        stopGraceMs: 1000,
        maxRunMs: NO_LIMIT_MS,
      });
      const reason = new Error('the server is shutting down');
      controller.abort(reason);
      await assert.rejects(run, (error) => error === reason);
    } finally {
      await server.dispose();
    }
  });

  it('a run past its time limit is stopped and fails saying so', async () => {
    const server = await emptyServerEnv();
    try {
      await assert.rejects(
        runMaintenanceChild(repository('0123'), new AbortController().signal, { env: server.env, logger, stopGraceMs: 1000, maxRunMs: 1 }),
        /maintenance of o\/0123 in child process \d+ ran past its limit of 0.001 s \(GITFLEET_MAINTENANCE_MAX_SECONDS\) and was stopped/,
      );
    } finally {
      await server.dispose();
    }
  });

  it('the child does not inherit the server’s debugger or cluster identity', { timeout: 60_000 }, async () => {
    const server = await emptyServerEnv();
    try {
      // Inherited, --inspect-brk would stop the child until a debugger came, and NODE_UNIQUE_ID
      // would make it a cluster worker looking for a primary it does not have.
      const env = { ...server.env, NODE_OPTIONS: '--inspect-brk=127.0.0.1:0', NODE_UNIQUE_ID: '1', GITFLEET_WORKER_SLOT: '1' };
      const outcome = await runMaintenanceChild(repository('0123', 'o', 'gone'), new AbortController().signal, {
        env,
        logger,
        maxRunMs: NO_LIMIT_MS,
      });
      assert.equal(outcome.ran, false);
    } finally {
      await server.dispose();
    }
  });
});
