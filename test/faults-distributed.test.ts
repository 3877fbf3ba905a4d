// Pushes and clones by git while a tenth of the server's exchanges with S3 and with Redis are
// faulted by TCP proxies (reset, cut mid-request or mid-answer, delayed): see
// scripts/faults-rounds.ts for what is checked. scripts/faults.ts runs the long version.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { skipWithoutServer } from '@gitfleet/test-support/server-storage';
import { runFaultRounds } from '../scripts/faults-rounds.js';

const skip = skipWithoutServer('GITFLEET_TEST_S3_ENDPOINT');
const SEED = Number(process.env.GITFLEET_FAULT_SEED ?? 4);

test(
  `with 10% of store exchanges faulted (seed ${SEED}), no push is lost or half-done, no clone corrupt, and all recovers`,
  { skip, timeout: 120_000 },
  async (t) => {
    const summary = await runFaultRounds({ rounds: 8, rate: 0.1, seed: SEED, stores: ['s3', 'redis'], log: (line) => t.diagnostic(line) });
    t.diagnostic(JSON.stringify(summary));
    assert.deepEqual(summary.problems, []);
    assert.equal(summary.pushes.lost, 0);
    // Only a failure that left the store unreachable for longer than the clients retry would leave it unknown.
    assert.equal(summary.pushes.unknownOutcome, 0, 'every failed push left the branch where it was');
    assert.equal(summary.clones.corrupt, 0);
    const { reset, 'cut-request': cutRequests, 'cut-response': cutResponses } = summary.proxies.s3!;
    assert.ok(reset + cutRequests + cutResponses > 0, 'the S3 traffic was faulted');
  },
);
