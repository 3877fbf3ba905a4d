// The embedded job queue (SQLite file with leases) against the queue contract.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { SqliteJobQueue } from '../src/index.js';
import { jobQueueConformance } from './job-queue-conformance.js';

let dir: string;
let files = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gitfleet-queue-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SqliteJobQueue', () => {
  jobQueueConformance(() => {
    const path = join(dir, `queue-${++files}.sqlite`);
    return (retry) => new SqliteJobQueue({ path, name: 'test', retry, concurrency: 3, leaseMs: 5_000, pollMs: 10, retentionMs: 60_000 });
  });
});
