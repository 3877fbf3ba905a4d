import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyDelta, createDelta } from '@gitfleet/git-format';
import { composeDeltas } from '../src/maintenance/delta-compose.js';

/** Deterministic bytes: text-like lines, so that versions share long runs. */
function version(seed: number, lines: number, edits: number): Buffer {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(`line ${i} ${'abcdefgh'.repeat(i % 9)}`);
  for (let k = 0; k < edits; k++) out[(seed * 7919 + k * 104729) % lines] = `edited ${seed}.${k} ${'z'.repeat(k % 300)}`;
  return Buffer.from(out.join('\n'));
}

describe('delta composition', () => {
  test('composing A→B with B→C gives a delta that rebuilds C from A', () => {
    const cases = [
      [version(1, 400, 3), version(2, 400, 6), version(3, 420, 9)],
      // Copies longer than one opcode can hold, and inserts longer than 127 bytes.
      [version(4, 20_000, 1), version(5, 20_000, 40), version(6, 19_000, 80)],
      // An empty middle version: the outer delta only inserts.
      [version(7, 50, 1), Buffer.alloc(0), version(8, 60, 2)],
    ];
    for (const [a, b, c] of cases) {
      const composed = composeDeltas(createDelta(a, b), createDelta(b, c));
      assert.ok(applyDelta(a, composed).equals(c));
    }
  });

  test('refuses deltas that do not meet: the outer one expects another base size', () => {
    const a = version(1, 100, 1);
    const b = version(2, 100, 2);
    assert.throws(() => composeDeltas(createDelta(a, b), createDelta(a.subarray(1), b)), /expects a base of/);
  });
});
