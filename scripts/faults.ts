/**
 * The long fault run: many rounds of git pushes and clones against a server whose S3 store and
 * Redis are reached through fault proxies (see faults-rounds.ts), then a summary:
 * pushes ok / failed / of unknown outcome / lost, clones ok / failed / corrupt. Exits 1 when a
 * promise was broken (a push lost or half-done, a clone corrupt, no recovery).
 * Needs the test servers (GITFLEET_TEST_S3_* and GITFLEET_TEST_REDIS_URL, see scripts/servers).
 *
 *   node --import tsx scripts/faults.ts [--rounds 50] [--rate 0.1] [--seed N] [--stores s3,redis] [--delay-ms 50]
 */
import { parseArgs } from 'node:util';
import { runFaultRounds } from './faults-rounds.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '50' },
    rate: { type: 'string', default: '0.1' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    stores: { type: 'string', default: 's3,redis' },
    'delay-ms': { type: 'string', default: '50' },
  },
});
const stores = values.stores.split(',').map((store) => {
  if (store !== 's3' && store !== 'redis') throw new Error(`--stores: unknown store ${store} (s3, redis)`);
  return store;
});
console.log(`${values.rounds} rounds, ${values.rate} of the exchanges with ${stores.join(' and ')} faulted, seed ${values.seed}`);
const summary = await runFaultRounds({
  rounds: Number(values.rounds),
  rate: Number(values.rate),
  seed: Number(values.seed),
  stores,
  delayMs: Number(values['delay-ms']),
  log: (line) => console.log(line),
});
const { pushes, clones } = summary;
console.log(`pushes: ${pushes.ok} ok, ${pushes.failed} failed, ${pushes.unknownOutcome} of unknown outcome, ${pushes.lost} lost`);
console.log(`clones: ${clones.ok} ok, ${clones.failed} failed, ${clones.corrupt} corrupt`);
for (const [store, counts] of Object.entries(summary.proxies)) console.log(`${store} proxy: ${JSON.stringify(counts)}`);
if (summary.failureMessages.length > 0) console.log(`failures as git reported them:\n  ${summary.failureMessages.join('\n  ')}`);
if (summary.problems.length > 0) {
  console.log(`PROBLEMS:\n  ${summary.problems.join('\n  ')}`);
  process.exitCode = 1;
}
