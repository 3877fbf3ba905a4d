import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { SqliteKVStore } from '@gitfleet/storage';
import { runKVStoreConformance } from '@gitfleet/storage/conformance';

const execFileAsync = promisify(execFile);

runKVStoreConformance('SqliteKVStore', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'gitfleet-sqlite-kv-'));
  const path = join(directory, 'kv.sqlite');
  return {
    store: new SqliteKVStore(path),
    connectAgain: async () => new SqliteKVStore(path),
    cleanup: () => rm(directory, { recursive: true, force: true }),
  };
});

describe('SqliteKVStore across processes', () => {
  it('loses no update when several processes race CAS on one file', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'gitfleet-sqlite-kv-'));
    try {
      const path = join(directory, 'kv.sqlite');
      await new SqliteKVStore(path).close();
      const worker = fileURLToPath(new URL('./fixtures/sqlite-cas-worker.ts', import.meta.url));
      const processes = 2;
      const times = 30;
      await Promise.all(
        Array.from({ length: processes }, (_, i) =>
          execFileAsync(process.execPath, ['--import', 'tsx', worker, path, `p${i}`, String(times)]),
        ),
      );
      const store = new SqliteKVStore(path);
      try {
        assert.equal(await store.get('repo', 'counter'), String(processes * times));
        const log = await store.readLog('repo', 'increments');
        // Every applied CAS logged once, in the order the counter moved.
        assert.deepEqual(
          log.map((entry) => entry.split(':')[1]),
          Array.from({ length: processes * times }, (_, i) => String(i + 1)),
        );
        for (let i = 0; i < processes; i++) assert.equal(log.filter((entry) => entry.startsWith(`p${i}:`)).length, times);
      } finally {
        await store.close();
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe("SqliteKVStore meeting another process's lock", () => {
  it('waits for the lock with the event loop free, then applies; past the busy timeout it fails, changing nothing', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'gitfleet-sqlite-kv-'));
    const path = join(directory, 'kv.sqlite');
    const store = new SqliteKVStore(path, { busyTimeoutMs: 150 });
    // Another process's write transaction: a connection of its own holding the write lock.
    const other = new Database(path);
    try {
      await store.compareAndSwap('repo', [{ key: 'k', expect: null, value: '1' }], 'all');
      other.exec('BEGIN IMMEDIATE');
      const started = Date.now();
      let timerRanAt: number | undefined;
      setTimeout(() => (timerRanAt = Date.now()), 20);
      const waiting = store.compareAndSwap('repo', [{ key: 'k', expect: '1', value: '2' }], 'all');
      await sleep(60);
      assert.ok(timerRanAt !== undefined && timerRanAt - started < 50, 'a timer ran on time while the call waited for the lock');
      other.exec('COMMIT');
      assert.deepEqual(await waiting, { conflicts: [] });
      assert.equal(await store.get('repo', 'k'), '2');

      other.exec('BEGIN IMMEDIATE');
      await assert.rejects(
        store.compareAndSwap('repo', [{ key: 'k', expect: '2', value: '3' }], 'all'),
        /compareAndSwap in scope repo: another process held the database for 150 ms/,
      );
      await assert.rejects(store.append('repo', 'log', 'entry'), /append to log log of scope repo: another process held the database/);
      other.exec('ROLLBACK');
      assert.equal(await store.get('repo', 'k'), '2');
      assert.deepEqual(await store.readLog('repo', 'log'), []);
    } finally {
      other.close();
      await store.close();
      await rm(directory, { recursive: true, force: true });
    }
  });
});
