// The distributed job queue (BullMQ) against the queue contract, on the real Redis that
// scripts/test.sh starts (GITFLEET_TEST_REDIS_URL); skipped without one.
import { randomUUID } from 'node:crypto';
import { describe } from 'node:test';
import { BullmqJobQueue } from '../src/index.js';
import { jobQueueConformance } from './job-queue-conformance.js';

const url = process.env.GITFLEET_TEST_REDIS_URL;

describe('BullmqJobQueue', { skip: url ? false : 'GITFLEET_TEST_REDIS_URL is not set' }, () => {
  jobQueueConformance(() => {
    const prefix = `{gf-test-${randomUUID()}}`;
    return (retry) => new BullmqJobQueue({ connection: { url: url! }, prefix, name: 'test', retry, concurrency: 3, retentionMs: 60_000 });
  });
});
