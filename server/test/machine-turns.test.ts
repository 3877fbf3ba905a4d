import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { LocalTurns } from '../src/cluster/turns.js';

const FIXTURE = fileURLToPath(new URL('./machine-turns-fixture.ts', import.meta.url));

test("one turn for the machine is held by one worker at a time, and a dead worker's turn is taken back", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', FIXTURE], { timeout: 60_000 });
  const log = JSON.parse(stdout.trim().split('\n').at(-1)!) as Array<{ type: string; slot: number }>;
  assert.deepEqual(log[0], { type: 'dying', slot: 0 });
  const turns = log.slice(1);
  assert.equal(turns.length, 3 * 5 * 2, 'every worker got all its turns after worker 0 died holding one');
  // Held and released alternate, by the same worker: never two holders at once.
  for (let at = 0; at < turns.length; at += 2) {
    assert.equal(turns[at].type, 'held', `event ${at}: ${JSON.stringify(turns)}`);
    assert.deepEqual(turns[at + 1], { type: 'released', slot: turns[at].slot });
  }
  assert.deepEqual(new Set(turns.map((event) => event.slot)), new Set([1, 2, 3]));
});

test('beyond the turns and the places to wait of the machine, a turn is refused at once', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', FIXTURE, 'refusal'], { timeout: 60_000 });
  const { outcomes } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { outcomes: string[] };
  assert.deepEqual(outcomes, ['0 granted', '2 refused', '1 granted']);
});

test('local turns: at most the limit at once, granted in the order asked, each given back once', async () => {
  const turns = new LocalTurns(2);
  const order: number[] = [];
  const first = await turns.take();
  const second = await turns.take();
  const waiting = [3, 4].map((id) => turns.take().then((giveBack) => (order.push(id), giveBack)));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, []);
  assert.equal(turns.waiting(), 2);
  first();
  first();
  const third = await waiting[0];
  assert.deepEqual(order, [3], 'a turn given back twice frees one place only');
  second();
  (await waiting[1])();
  third();
  assert.deepEqual(order, [3, 4]);
  assert.equal(turns.waiting(), 0);
});
