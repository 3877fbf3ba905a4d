import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Lru } from '../src/lru.js';

test('Lru evicts the least recently used once the bytes exceed the bound', () => {
  const lru = new Lru<string, Buffer>(10, (b) => b.length);
  lru.set('a', Buffer.alloc(4));
  lru.set('b', Buffer.alloc(4));
  assert.ok(lru.get('a')); // a is now the most recently used
  lru.set('c', Buffer.alloc(4));
  assert.equal(lru.get('b'), undefined);
  assert.ok(lru.get('a') && lru.get('c'));
  assert.equal(lru.cost, 8);
  lru.set('huge', Buffer.alloc(11));
  assert.equal(lru.get('huge'), undefined, 'a value larger than the bound is not kept');
  assert.equal(lru.cost, 8);
  lru.set('a', Buffer.alloc(1));
  assert.equal(lru.cost, 5, 'replacing a value accounts for its new size');
});

test('Lru bounded by count: peek leaves the order of use, delete gives back the cost', () => {
  const lru = new Lru<number, string>(2, () => 1);
  lru.set(1, 'one');
  lru.set(2, 'two');
  assert.equal(lru.peek(1), 'one');
  lru.set(3, 'three');
  assert.equal(lru.peek(1), undefined, 'peek did not make 1 the most recently used');
  assert.deepEqual([...lru.keys()], [2, 3]);
  assert.equal(lru.delete(2), true);
  assert.equal(lru.delete(2), false);
  assert.equal(lru.cost, 1);
  assert.equal(lru.size, 1);
});

test('Lru stats: get counts a hit or a miss, peek neither; bytes and entries are what it holds', () => {
  const lru = new Lru<string, Buffer>(10, (b) => b.length);
  lru.set('a', Buffer.alloc(3));
  lru.get('a');
  lru.get('a');
  lru.get('b');
  lru.peek('a');
  lru.peek('b');
  assert.deepEqual(lru.stats(), { hits: 2, misses: 1, bytes: 3, maxBytes: 10, entries: 1 });
});
