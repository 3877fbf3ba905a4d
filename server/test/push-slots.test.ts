import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpError } from '../src/http-errors.js';
import { PushSlots } from '../src/limits/push-slots.js';

const refusedWith = (status: number) => (error: unknown) => error instanceof HttpError && error.status === status;

test('a push beyond its account share waits and is admitted when a slot frees', async () => {
  const slots = new PushSlots({ maxPushes: 4, maxPushesPerAccount: 1, waitMs: 5_000 });
  const first = await slots.acquire('bot');
  let admitted = false;
  const second = slots.acquire('bot').then((release) => {
    admitted = true;
    return release;
  });
  await sleep(20);
  assert.equal(admitted, false, 'the second push waits while the first runs');
  // Another account is not held up by the waiting one.
  (await slots.acquire('alice'))();
  first();
  (await second)();
  assert.equal(admitted, true);
});

test('a waiting push is refused when no slot frees in time: 429 for its account, 503 for the server', async () => {
  const slots = new PushSlots({ maxPushes: 2, maxPushesPerAccount: 1, waitMs: 50 });
  const bot = await slots.acquire('bot');
  await assert.rejects(slots.acquire('bot'), refusedWith(429));
  const alice = await slots.acquire('alice');
  await assert.rejects(slots.acquire('carol'), refusedWith(503));
  bot();
  alice();
  (await slots.acquire('carol'))();
});

test('no more pushes wait than could run, and a client that leaves gives up its place', async () => {
  const slots = new PushSlots({ maxPushes: 1, maxPushesPerAccount: 1, waitMs: 60_000 });
  const running = await slots.acquire('bot');
  const gone = new AbortController();
  const waiting = slots.acquire('alice', gone.signal);
  await assert.rejects(slots.acquire('carol'), refusedWith(503), 'the waiting list is full');
  gone.abort(new Error('client went away'));
  await assert.rejects(waiting, /client went away/);
  const next = slots.acquire('carol');
  running();
  (await next)();
});

test('with no wait configured, a push beyond the limits is refused at once', async () => {
  const slots = new PushSlots({ maxPushes: 8, maxPushesPerAccount: 1, waitMs: 0 });
  const release = await slots.acquire('bot');
  await assert.rejects(slots.acquire('bot'), refusedWith(429));
  release();
});
