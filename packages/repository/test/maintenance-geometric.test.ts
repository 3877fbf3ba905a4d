import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { git, gitText } from '@gitfleet/test-support/git';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { DEFAULT_MAINTENANCE_POLICY, chooseMaintenance, planGeometric, type PackInfo } from '../src/index.js';

const workDir = tempDir({ after }, 'geometric');

const packs = (weights: number[]) => weights.map((objects, i) => ({ checksum: `p${String(i).padStart(2, '0')}`, objects }));
const merged = (weights: number[]) =>
  planGeometric(packs(weights))
    .merge.map((p) => p.checksum)
    .sort();

/**
 * The packs `git repack --geometric=2 -d` leaves alone, in a repository whose packs hold
 * `weights` objects each (distinct blobs, nothing loose): git itself is the oracle.
 */
function packsGitKeeps(weights: number[]): string[] {
  const repo = path.join(workDir, `r${weights.join('-')}`);
  git(workDir, ['init', '--quiet', '--bare', repo]);
  const packDir = path.join(repo, 'objects', 'pack');
  const names: string[] = [];
  weights.forEach((count, i) => {
    const blobs = Array.from({ length: count }, (_, j) => `pack ${i} blob ${j} of ${weights.join(',')}\n`);
    const oids = blobs.map((body) => gitText(repo, ['hash-object', '-w', '--stdin'], body).trim());
    names.push(gitText(repo, ['pack-objects', '--quiet', path.join(packDir, 'pack')], oids.join('\n') + '\n').trim());
  });
  git(repo, ['prune-packed']);
  git(repo, ['repack', '--geometric=2', '-d', '-q']);
  const remaining = new Set(
    readdirSync(packDir)
      .filter((f) => f.endsWith('.pack'))
      .map((f) => f.slice(5, 45)),
  );
  return names.flatMap((name, i) => (remaining.has(name) ? [`p${String(i).padStart(2, '0')}`] : [])).sort();
}

describe('geometric selection', () => {
  test('examples worked by hand: a progression is left alone; a broken one is merged from the light end', () => {
    assert.deepEqual(merged([]), []);
    assert.deepEqual(merged([7]), []);
    // git's t7703 "intact progression": 3, 6, 12 objects.
    assert.deepEqual(merged([3, 6, 12]), []);
    // Two equal packs break it; the rollup (2 objects) then absorbs each heavier pack in turn: 2 < 2·2, 4 < 2·4, 8 < 2·8.
    assert.deepEqual(merged([1, 1, 2, 4, 8]), ['p00', 'p01', 'p02', 'p03', 'p04']);
    // The small end is merged; the merged 6 objects stay below half of 100, so 100 stays.
    assert.deepEqual(merged([1, 2, 3, 100]), ['p00', 'p01', 'p02']);
    // t7703 "small- and large-pack rollup" shape: the rollup grows until a heavy pack is twice it.
    assert.deepEqual(merged([3, 3, 6, 24]), ['p00', 'p01', 'p02']);
    assert.deepEqual(merged([2, 3]), ['p00', 'p01']);
    assert.deepEqual(merged([1, 3]), []);
  });

  test('merges exactly the packs C git merges (git repack --geometric=2 as the oracle)', () => {
    const cases = [
      [1, 1],
      [1, 2, 4],
      [1, 1, 2, 4],
      [3, 3, 6, 24],
      [1, 2, 3, 10, 100],
      [1, 1, 1, 1, 1, 1, 1, 1],
      [5, 7, 20, 45, 120],
      [1, 1, 4, 8, 16, 40],
      [9, 1, 1],
    ];
    for (const weights of cases) {
      const kept = planGeometric(packs(weights))
        .keep.map((p) => p.checksum)
        .sort();
      assert.deepEqual(kept, packsGitKeeps(weights), `packs of ${weights.join(', ')} objects`);
    }
  });

  test('the packs left after a merge form a progression of factor 2', () => {
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 1000;
    for (let round = 0; round < 200; round++) {
      const weights = Array.from({ length: 1 + (random() % 12) }, () => 1 + random());
      const { merge, keep } = planGeometric(packs(weights));
      const after = [...keep.map((p) => p.objects), ...(merge.length > 0 ? [merge.reduce((sum, p) => sum + p.objects, 0)] : [])].sort(
        (a, b) => a - b,
      );
      for (let i = 1; i < after.length; i++) assert.ok(after[i] >= 2 * after[i - 1], `${weights} → ${after}`);
    }
  });

  test('policy: compaction waits for more than compactAbovePacks packs; a full repack pays by size, then by the share outside it', () => {
    const info = (objects: number, kind: PackInfo['kind'], i: number): PackInfo => ({
      checksum: `c${i}`,
      objects,
      size: objects * 100,
      createdAt: `2026-01-01T00:00:${String(59 - i).padStart(2, '0')}.000Z`,
      kind,
    });
    const policy = { ...DEFAULT_MAINTENANCE_POLICY, compactAbovePacks: 4, fullRepackMinObjects: 1000 };
    const receive = (weights: number[]) => weights.map((w, i) => info(w, 'receive', i));
    assert.equal(chooseMaintenance(receive([1, 1, 1, 1]), policy).action, 'none');
    assert.equal(chooseMaintenance(receive([1, 1, 1, 1, 1]), policy).action, 'compact');
    assert.equal(chooseMaintenance(receive([1, 2, 4, 8, 16]), policy).action, 'none');
    assert.equal(chooseMaintenance(receive([500, 500]), policy).action, 'full');
    // A repack pack of 1000, 400 objects outside: below half of it.
    const repacked = [info(100, 'receive', 0), info(300, 'receive', 1), info(1000, 'repack', 2), info(5000, 'cruft', 3)];
    assert.equal(chooseMaintenance(repacked, policy).action, 'none');
    assert.equal(chooseMaintenance([info(101, 'receive', 4), ...repacked], policy).action, 'full');
  });
});
