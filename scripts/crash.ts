/**
 * The long crash run: rounds of concurrent real pushes while the server is killed with SIGKILL
 * (or, with --failover, while a Redis Cluster master fails over), each followed by a restart on
 * the same data and the checks of scripts/crash/rounds.ts; then the figures. Exits 1 when a
 * promise was broken (an acknowledged push lost, a ref the server cannot serve, a spool or temp
 * file left, an orphaned pack not collected).
 * The distributed backend needs the test servers (GITFLEET_TEST_S3_*, GITFLEET_TEST_REDIS_URL or
 * GITFLEET_TEST_REDIS_CLUSTER; see scripts/servers).
 *
 *   pnpm crash [--backend embedded|distributed] [--redis single|cluster] [--failover] [--wait-replicas N]
 *              [--rounds 50] [--seed N] [--history git|generated:<commits>|<git dir>[#<branch>]] [--step N]
 *              [--kill-window-ms N] [--repositories N] [--fsck-every N] [--collect-every N]
 */
import { parseArgs } from 'node:util';
import { describeHistorySource, parseHistorySource } from './crash/history.js';
import { runCrashRounds } from './crash/rounds.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'embedded' },
    redis: { type: 'string', default: 'single' },
    failover: { type: 'boolean', default: false },
    'wait-replicas': { type: 'string' },
    rounds: { type: 'string', default: '50' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    history: { type: 'string', default: 'git' },
    step: { type: 'string' },
    'kill-window-ms': { type: 'string' },
    repositories: { type: 'string', default: '3' },
    'fsck-every': { type: 'string', default: '1' },
    'collect-every': { type: 'string', default: '5' },
  },
});
const backend = values.backend;
if (backend !== 'embedded' && backend !== 'distributed') throw new Error(`--backend: unknown backend ${backend} (embedded, distributed)`);
const redis = values.redis;
if (redis !== 'single' && redis !== 'cluster') throw new Error(`--redis: unknown ${redis} (single, cluster)`);
const history = parseHistorySource(values.history);
// git's history moves in increments of a few hundred commits a push; a generated one, a few.
const step = Number(values.step ?? (history.kind === 'generated' ? 3 : 300));
const killWindowMs = Number(values['kill-window-ms'] ?? 3000);
const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));

console.log(
  `${values.rounds} rounds on the ${backend} backend${backend === 'distributed' ? ` (Redis ${redis})` : ''}, ` +
    `${values.failover ? 'a master failed over' : 'the server killed'} within ${killWindowMs} ms of the pushes' start (at first), ` +
    `pushing ${describeHistorySource(history)} ${step} commits at a time, seed ${values.seed}`,
);
// Ended by a signal, the run still goes through 'exit', where the server it started is killed.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
const startedAt = Date.now();
const summary = await runCrashRounds({
  backend,
  redis,
  failover: values.failover,
  waitReplicas: number(values['wait-replicas']),
  rounds: Number(values.rounds),
  seed: Number(values.seed),
  history,
  step,
  killWindowMs,
  repositories: Number(values.repositories),
  fsckEvery: Number(values['fsck-every']),
  collectEvery: Number(values['collect-every']),
  log: (line) => console.log(line),
});
const { refUpdates, pushes, orphanPacks } = summary;
console.log(
  `rounds run: ${summary.rounds} (${summary.failovers > 0 ? `${summary.failovers} failovers, ${summary.failoversMidPush} of them mid-push` : `${summary.killsMidPush} kills mid-push`}) in ${Math.round((Date.now() - startedAt) / 1000)} s`,
);
console.log(`pushes: ${pushes.run} run, ${pushes.exitedOk} exited 0`);
console.log(
  `ref updates: ${refUpdates.pushed} pushed, ${refUpdates.acknowledged} acknowledged, ` +
    `${refUpdates.appliedUnacknowledged} applied unacknowledged, ${refUpdates.notApplied} not applied`,
);
console.log(
  `acknowledged pushes lost: ${summary.lost}; refs moved without a push: ${summary.unexpected}; dangling refs: ${summary.danglingRefs}`,
);
console.log(`leftover spool/temp files after restarts: ${summary.leftoverFiles}`);
console.log(`orphaned packs: ${orphanPacks.found} found, ${orphanPacks.collected} collected, ${orphanPacks.remaining} remaining`);
if (summary.pushErrors.length > 0) console.log(`push errors as git reported them:\n  ${summary.pushErrors.join('\n  ')}`);
if (summary.problems.length > 0) {
  console.log(`PROBLEMS:\n  ${summary.problems.join('\n  ')}`);
  process.exitCode = 1;
}
