import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { git } from '@gitfleet/test-support/git';
import { buildHistory } from '@gitfleet/test-support/histories';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { PackIndexPool } from '../src/index.js';
import { indexCopy } from './index-pool-fixtures.js';

const dir = tempDir({ after }, 'index-pool-parallel');
let repo: string;
// Every pack resolves on helper threads in one pool and on the push's thread in the other (none on the event loop).
const parallel = new PackIndexPool({ threads: 3, resolveThreadsPerPush: 3, parallelMinDeltas: 0, inlineWorkBytes: 0 });
const sequential = new PackIndexPool({ threads: 1, inlineWorkBytes: 0 });
after(() => Promise.all([parallel.close(), sequential.close()]));

before(() => {
  repo = buildHistory(dir, 250);
});

function pack(name: string, revs: string[], flags: string[]): string {
  const file = path.join(dir, `${name}.pack`);
  writeFileSync(file, git(repo, ['pack-objects', '--revs', '--stdout', '-q', ...flags], revs.join('\n') + '\n'));
  return file;
}

describe('PackIndexPool: a push indexed on several threads has the outcome it has on one', () => {
  test('a thin pack of the newest commits: same idx, outside links, tip types and appended bases', async () => {
    const thin = pack('thin', ['main', '^main~150'], ['--thin', '--delta-base-offset', '--depth=100']);
    const tips = [git(repo, ['rev-parse', 'main', 'main~10', 'main~10^{tree}']).toString().trim().split('\n')].flat();
    const one = (await indexCopy(sequential, repo, thin, { tips, shallow: [tips[1]] })).outcome;
    const three = (await indexCopy(parallel, repo, thin, { tips, shallow: [tips[1]] })).outcome;
    assert.equal(one.ok, true);
    assert.deepEqual(three, one);
    assert.ok(one.ok && one.appendedBases > 0 && one.outsideLinks.length > 0 && one.tipTypes.length === 3);
  });

  test('a whole history with deep chains: same idx and outcome', async () => {
    const full = pack('full', ['main'], ['--delta-base-offset', '--depth=250']);
    const one = (await indexCopy(sequential, repo, full)).outcome;
    const three = (await indexCopy(parallel, repo, full)).outcome;
    assert.deepEqual(three, one);
    assert.ok(one.ok && one.outsideLinks.length === 0, 'a whole history points only into itself');
  });
});
