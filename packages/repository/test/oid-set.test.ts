import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { OidSet } from '../src/oid-set.js';

const idOf = (n: number): string => createHash('sha1').update(String(n)).digest('hex');

test('OidSet holds what a Set holds, in insertion order, through growth', () => {
  const set = new OidSet();
  const reference = new Set<string>();
  for (let n = 0; n < 5000; n++) {
    const oid = idOf(n % 3700); // repeats: adding an id twice keeps one
    assert.equal(set.add(oid), !reference.has(oid));
    reference.add(oid);
  }
  assert.equal(set.size, reference.size);
  assert.deepEqual([...set], [...reference]);
  for (let n = 0; n < 4000; n++) assert.equal(set.has(idOf(n)), n < 3700, `id ${n}`);
  assert.equal(set.has('not an id'), false);
  assert.equal(set.has(idOf(1).toUpperCase()), true, 'hex is read case-insensitively, as git reads ids');
  assert.throws(() => set.add('xyz'), TypeError);
});

test('OidSet looks ids up in place in a buffer, and keeps flags per entry', () => {
  const set = new OidSet();
  const buffer = Buffer.concat([Buffer.from('padding'), Buffer.from(idOf(1), 'hex'), Buffer.from(idOf(2), 'hex')]);
  const first = set.addBytes(buffer, 7, 3);
  assert.equal(first, 0);
  assert.equal(set.addBytes(buffer, 7), -1, 'already present');
  assert.equal(set.hasBytes(buffer, 27), false);
  assert.equal(set.addBytes(buffer, 27), 1);
  assert.equal(set.oidAt(1), idOf(2));
  assert.equal(set.indexOf(idOf(1)), 0);
  assert.equal(set.flags(0), 3);
  set.setFlags(0, 5);
  assert.equal(set.flags(0), 5);
  assert.equal(set.indexOf(idOf(3)), -1);
});
