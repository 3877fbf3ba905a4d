import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LfsObjectRecords } from '../src/index.js';
import { backends } from './backends.js';

const oid = (n: number) => n.toString(16).padStart(64, '0');

for (const backend of backends) {
  describe(`LFS object records over ${backend.name}`, () => {
    test('record each object once, keep the sum in step, forget', async (t) => {
      const { kv } = await backend.open(t);
      const records = new LfsObjectRecords(kv);
      assert.equal(await records.repositoryBytes('r1'), 0);
      assert.equal(await records.recordStored('r1', oid(1), 100), true);
      assert.equal(await records.recordStored('r1', oid(1), 100), false, 'recorded once');
      assert.equal(await records.recordStored('r1', oid(2), 50), true);
      assert.equal(await records.recordStored('r2', oid(1), 7), true, 'per repository');
      assert.equal(await records.repositoryBytes('r1'), 150);
      assert.deepEqual(await records.list('r1'), [
        { oid: oid(1), size: 100 },
        { oid: oid(2), size: 50 },
      ]);
      assert.equal(await records.forget('r1', oid(1)), true);
      assert.equal(await records.forget('r1', oid(1)), false);
      assert.equal(await records.repositoryBytes('r1'), 50);
      assert.equal(await records.repositoryBytes('r2'), 7);
    });

    test('concurrent uploads to one repository all count', async (t) => {
      const { kv } = await backend.open(t);
      const records = new LfsObjectRecords(kv);
      const sizes = Array.from({ length: 20 }, (_, i) => i + 1);
      const outcomes = await Promise.all(sizes.map((size) => records.recordStored('r', oid(size), size)));
      assert.ok(outcomes.every(Boolean));
      assert.equal(
        await records.repositoryBytes('r'),
        sizes.reduce((a, b) => a + b, 0),
      );
      assert.equal((await records.list('r')).length, 20);
    });
  });
}
