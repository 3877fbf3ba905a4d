import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { git } from '@gitfleet/test-support/git';
import { buildSourceRepo } from '@gitfleet/test-support/histories';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import {
  gitUploadPack,
  indexInto,
  loadRepository,
  objectsOfPack,
  parseResponse,
  request,
  revListObjects,
  runUploadPack,
} from './upload-pack-helpers.js';
import type { Line } from './upload-pack-helpers.js';

// No thin-pack: each pack must index on its own, so that ours and git's can be compared.
const CAPS = 'multi_ack_detailed no-done side-band-64k ofs-delta deepen-since deepen-not agent=git/2.39.2';

test('v0 shallow requests: shallow/unshallow lines match git, and the pack is what git would send', async (t) => {
  const dir = tempDir(t, 'shallow');
  const source = buildSourceRepo(dir);
  const repo = await loadRepository(source, dir);
  const rev = (name: string) => git(source, ['rev-parse', name]).toString().trim();
  const main = rev('main');
  const feature = rev('feature');
  const cases: Line[][] = [
    [`want ${main} ${CAPS}`, 'deepen 1', 'flush', 'done'],
    [`want ${main} ${CAPS}`, `want ${feature}`, 'deepen 3', 'flush', 'done'],
    [`want ${main} ${CAPS}`, `deepen-since ${1_700_000_000 + 60 * 20}`, 'flush', 'done'],
    [`want ${main} ${CAPS}`, 'deepen-not feature', 'flush', 'done'],
    [`want ${main} ${CAPS}`, `shallow ${rev('main~2')}`, 'deepen 2147483647', 'flush', `have ${rev('main~2')}`, 'done'],
    [`want ${main} ${CAPS} deepen-relative`, `shallow ${rev('main~2')}`, 'deepen 2', 'flush', `have ${main}`, 'done'],
    [`want ${main} ${CAPS}`, `shallow ${rev('main~1')}`, 'deepen 4', 'flush', `have ${main}`, 'done'],
    // The first stateless request of a shallow fetch: only the shallow list comes back.
    [`want ${main} ${CAPS}`, 'deepen 2', 'flush'],
  ];
  for (const lines of cases) {
    const body = request(lines);
    const ours = parseResponse(await runUploadPack(repo, body, 0));
    const theirs = parseResponse(gitUploadPack(source, body, 0));
    const sorted = (l: Line[]) => [...l].sort();
    assert.deepEqual(sorted(ours.lines), sorted(theirs.lines), `request ${JSON.stringify(lines)}`);
    assert.equal(ours.pack.length > 0, theirs.pack.length > 0);
    if (theirs.pack.length === 0) continue;
    const a = path.join(dir, `ours-${Math.random()}.git`);
    const b = path.join(dir, `theirs-${Math.random()}.git`);
    git(dir, ['init', '--quiet', '--bare', '--initial-branch=main', a]);
    git(dir, ['init', '--quiet', '--bare', '--initial-branch=main', b]);
    const ourObjects = objectsOfPack(a, indexInto(a, ours.pack, { strict: false }));
    const theirObjects = objectsOfPack(b, git(b, ['index-pack', '--stdin'], theirs.pack).toString().trim());
    assert.deepEqual(ourObjects, theirObjects, `objects for ${JSON.stringify(lines)}`);
  }
});

test('v0 shallow clone is usable: index-pack, shallow file and fsck', async (t) => {
  const dir = tempDir(t, 'shallow-clone');
  const source = buildSourceRepo(dir);
  const repo = await loadRepository(source, dir);
  const main = git(source, ['rev-parse', 'main']).toString().trim();
  const response = parseResponse(await runUploadPack(repo, request([`want ${main} ${CAPS}`, 'deepen 2', 'flush', 'done']), 0));
  const shallow = response.lines.filter((l): l is string => typeof l === 'string' && l.startsWith('shallow ')).map((l) => l.slice(8));
  assert.ok(shallow.length > 0);
  const clone = path.join(dir, 'clone.git');
  git(dir, ['init', '--quiet', '--bare', '--initial-branch=main', clone]);
  indexInto(clone, response.pack, { strict: false });
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path.join(clone, 'shallow'), shallow.join('\n') + '\n');
  git(clone, ['update-ref', 'refs/heads/main', main]);
  git(clone, ['fsck', '--no-dangling']);
  assert.deepEqual(revListObjects(clone, ['main']).size > 0, true);
});
