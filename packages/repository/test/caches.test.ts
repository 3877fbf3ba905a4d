import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteLru } from '../src/byte-lru.js';
import { escapeKeyPart, refKey, refNameFromKey } from '../src/keys.js';

test('ByteLru evicts the least recently used once the bytes exceed the bound', () => {
  const lru = new ByteLru<string, Buffer>(10, (b) => b.length);
  lru.set('a', Buffer.alloc(4));
  lru.set('b', Buffer.alloc(4));
  assert.ok(lru.get('a')); // a is now the most recently used
  lru.set('c', Buffer.alloc(4));
  assert.equal(lru.get('b'), undefined);
  assert.ok(lru.get('a') && lru.get('c'));
  assert.equal(lru.bytes, 8);
  lru.set('huge', Buffer.alloc(11));
  assert.equal(lru.get('huge'), undefined, 'a value larger than the bound is not kept');
  assert.equal(lru.bytes, 8);
  lru.set('a', Buffer.alloc(1));
  assert.equal(lru.bytes, 5, 'replacing a value accounts for its new size');
});

test('ref names escape to printable-ASCII keys and back, prefixes staying prefixes', () => {
  for (const name of ['refs/heads/main', 'refs/heads/ünïcode', 'refs/heads/100%', 'refs/heads/日本/x', 'refs/heads/%C3%BC']) {
    const key = refKey(name);
    assert.match(key, /^[\x21-\x7e]+$/);
    assert.equal(refNameFromKey(key), name);
  }
  assert.notEqual(refKey('refs/heads/%C3%BC'), refKey('refs/heads/ü'));
  assert.ok(escapeKeyPart('refs/heads/日本/x').startsWith(escapeKeyPart('refs/heads/日')));
});
