import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gitText } from '@gitfleet/test-support/git';
import { ZERO_OID, hashObject, isObjectId, type ObjectType } from '../src/oid.js';

describe('isObjectId', () => {
  it('accepts exactly 40 lower-case hex digits', () => {
    assert.ok(isObjectId(ZERO_OID));
    assert.ok(isObjectId('0123456789abcdef0123456789abcdef01234567'));
    for (const bad of ['', 'a'.repeat(39), 'a'.repeat(41), 'A'.repeat(40), 'g'.repeat(40), `${'a'.repeat(39)}\n`, ` ${'a'.repeat(39)}`]) {
      assert.equal(isObjectId(bad), false, JSON.stringify(bad));
    }
  });
});

describe('hashObject', () => {
  it('gives the id git hash-object gives, for every type', () => {
    const samples: Array<[ObjectType, Buffer]> = [
      ['blob', Buffer.alloc(0)],
      ['blob', randomBytes(100_000)],
      ['tree', Buffer.alloc(0)],
      ['commit', Buffer.from('not checked\n')],
      ['tag', Buffer.from('any bytes \0 at all')],
    ];
    for (const [type, body] of samples) {
      const expected = gitText('.', ['hash-object', '-t', type, '--literally', '--stdin'], body);
      assert.equal(hashObject(type, body), expected);
      assert.equal(hashObject(type, new Uint8Array(body)), expected);
    }
  });

  it('knows the empty tree', () => {
    assert.equal(hashObject('tree', new Uint8Array()), '4b825dc642cb6eb9a060e54bf8d69288fbee4904');
  });
});
