// The embedded job queue (SQLite file with leases) against the queue contract.
import { join } from 'node:path';
import { after, describe } from 'node:test';
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
