// The embedded job queue (SQLite file with leases) against the queue contract.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { SqliteJobQueue } from '../src/index.js';
import { jobQueueConformance } from './job-queue-conformance.js';

const dir = tempDir({ after }, 'queue');
let files = 0;

describe('SqliteJobQueue', () => {
  jobQueueConformance(() => {
    const path = join(dir, `queue-${++files}.sqlite`);
    return (retry) => new SqliteJobQueue({ path, name: 'test', retry, concurrency: 3, leaseMs: 5_000, pollMs: 10, retentionMs: 60_000 });
  });
});

describe("SqliteJobQueue meeting another process's lock", () => {
  it('adds a job once the lock is released, serving timers meanwhile', async () => {
    const path = join(dir, 'locked.sqlite');
    const queue = new SqliteJobQueue<{ n: number }>({
      path,
      name: 'test',
      retry: { maxAttempts: 1, backoffMs: 10, maxBackoffMs: 10 },
      concurrency: 1,
      leaseMs: 5_000,
      pollMs: 10,
      retentionMs: 60_000,
    });
    // Another process's write transaction: a connection of its own holding the write lock.
    const other = new Database(path);
    try {
      other.exec('BEGIN IMMEDIATE');
      const started = Date.now();
      let timerRanAt: number | undefined;
      setTimeout(() => (timerRanAt = Date.now()), 20);
      let added = false;
      const adding = queue.add('job-1', { n: 1 }).then(() => (added = true));
      await sleep(60);
      assert.ok(timerRanAt !== undefined && timerRanAt - started < 50, 'a timer ran on time while add() waited for the lock');
      assert.equal(added, false);
      other.exec('COMMIT');
      await adding;
      assert.equal(queue.counts().queued, 1);
    } finally {
      other.close();
      await queue.close();
    }
  });
});
