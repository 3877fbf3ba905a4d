// The distributed job queue (BullMQ) against the queue contract, on the real Redis that
// scripts/test.sh starts (GITFLEET_TEST_REDIS_URL).
import { randomUUID } from 'node:crypto';
import { describe } from 'node:test';
import { BullmqJobQueue } from '../src/index.js';
import { jobQueueConformance } from './job-queue-conformance.js';

const url = process.env.GITFLEET_TEST_REDIS_URL;

const skip = process.env.GITFLEET_SKIP_REMOTE_STORES === '1' ? 'GITFLEET_SKIP_REMOTE_STORES=1' : false;
if (!skip && !url)
  throw new Error(
    'GITFLEET_TEST_REDIS_URL is not set: start Redis with `eval "$(scripts/servers/redis.sh start)"` (or set GITFLEET_SKIP_REMOTE_STORES=1)',
  );

describe('BullmqJobQueue', { skip }, () => {
  jobQueueConformance(() => {
    const prefix = `{gf-test-${randomUUID()}}`;
    return (retry) => new BullmqJobQueue({ connection: { url: url! }, prefix, name: 'test', retry, concurrency: 3, retentionMs: 60_000 });
  });
});
