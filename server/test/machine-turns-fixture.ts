/**
 * A real node:cluster for machine-turns.test.ts. The primary grants one turn of "work" for the
 * machine and forks three workers; each takes the turn TURNS times, holding it a few
 * milliseconds, and every take and give-back is logged by the primary in the order it happens.
 * Worker 0 first takes a turn and dies holding it: the others must still get theirs.
 * The primary prints the log as one JSON line.
 * `refusal`: one turn and one place to wait; a worker asks for three at once and reports how each went.
 */
import cluster, { type Worker } from 'node:cluster';
import { setTimeout as sleep } from 'node:timers/promises';
import { grantTurnsInPrimary, MachineTurns, TurnsRefused } from '../src/cluster/turns.js';

const TURNS = 5;
const HOLD_MS = 3;

type Event = { type: 'held' | 'released' | 'dying'; slot: number };

const REFUSAL = process.argv[2] === 'refusal';

if (cluster.isPrimary && REFUSAL) {
  grantTurnsInPrimary({ work: { turns: 1, waiting: 1 } });
  const worker = cluster.fork({ SLOT: 'refusal' });
  worker.on('message', (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`));
  await new Promise((resolve) => worker.on('exit', resolve));
} else if (REFUSAL || process.env.SLOT === 'refusal') {
  const turns = new MachineTurns('work');
  const outcomes: string[] = [];
  const asked = [0, 1, 2].map((n) =>
    turns.take().then(
      (giveBack) => (outcomes.push(`${n} granted`), giveBack),
      (error: unknown) => (outcomes.push(`${n} ${error instanceof TurnsRefused ? 'refused' : String(error)}`), undefined),
    ),
  );
  const first = await asked[0];
  await asked[2];
  first!();
  (await asked[1])?.();
  await new Promise<void>((resolve) => process.send!({ outcomes }, () => resolve()));
  process.disconnect();
} else if (cluster.isPrimary) {
  grantTurnsInPrimary({ work: { turns: 1, waiting: 2 } });
  const log: Event[] = [];
  const forkSlot = (slot: number): Worker => {
    const worker = cluster.fork({ SLOT: String(slot) });
    worker.on('message', (message: Event | { type: string }) => {
      if (message.type === 'held' || message.type === 'released' || message.type === 'dying') log.push(message as Event);
    });
    return worker;
  };
  const dying = forkSlot(0);
  await new Promise((resolve) => dying.on('exit', resolve));
  const workers = [forkSlot(1), forkSlot(2), forkSlot(3)];
  await Promise.all(workers.map((worker) => new Promise((resolve) => worker.on('exit', resolve))));
  process.stdout.write(`${JSON.stringify(log)}\n`);
} else {
  const slot = Number(process.env.SLOT);
  const turns = new MachineTurns('work');
  const report = (type: Event['type']) => new Promise<void>((resolve) => process.send!({ type, slot } satisfies Event, () => resolve()));
  if (slot === 0) {
    await turns.take();
    await report('dying');
    process.exit(1);
  }
  for (let turn = 0; turn < TURNS; turn++) {
    const giveBack = await turns.take();
    await report('held');
    await sleep(HOLD_MS);
    await report('released');
    giveBack();
  }
  process.disconnect();
}
