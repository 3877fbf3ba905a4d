import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeKeyPart, refKey, refNameFromKey } from '../src/keys.js';

test('ref names escape to printable-ASCII keys and back, prefixes staying prefixes', () => {
  for (const name of ['refs/heads/main', 'refs/heads/ünïcode', 'refs/heads/100%', 'refs/heads/日本/x', 'refs/heads/%C3%BC']) {
    const key = refKey(name);
    assert.match(key, /^[\x21-\x7e]+$/);
    assert.equal(refNameFromKey(key), name);
  }
  assert.notEqual(refKey('refs/heads/%C3%BC'), refKey('refs/heads/ü'));
  assert.ok(escapeKeyPart('refs/heads/日本/x').startsWith(escapeKeyPart('refs/heads/日')));
});
