import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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
