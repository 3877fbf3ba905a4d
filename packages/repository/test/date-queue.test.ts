import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DateQueue } from '../src/index.js';

test('pops newest first, and commits of equal time in the order they were pushed', () => {
  const queue = new DateQueue();
  const pushed: Array<[string, number]> = [];
  // Many equal times, pushed interleaved with others, so that ties cross heap levels.
  for (let i = 0; i < 200; i++) pushed.push([`c${i}`, (i * 7919) % 13]);
  for (const [oid, time] of pushed) queue.push(oid, time);
  assert.equal(queue.size, pushed.length);
  const expected = [...pushed].sort((a, b) => b[1] - a[1] || Number(a[0].slice(1)) - Number(b[0].slice(1))).map(([oid]) => oid);
  const popped: string[] = [];
  for (let oid = queue.pop(); oid !== undefined; oid = queue.pop()) popped.push(oid);
  assert.deepEqual(popped, expected);
  assert.equal(queue.size, 0);
});

test('keeps the order of ties across pushes made between pops', () => {
  const queue = new DateQueue();
  queue.push('a', 5);
  queue.push('b', 9);
  assert.equal(queue.pop(), 'b');
  queue.push('c', 5);
  queue.push('d', 5);
  assert.deepEqual([queue.pop(), queue.pop(), queue.pop(), queue.pop()], ['a', 'c', 'd', undefined]);
});
