/**
 * Every fuzz target, briefly (`pnpm fuzz` runs them for longer), from the committed seeds with
 * a fixed random seed: a finding fails the test with the input saved and its stack. And the
 * engine itself: it must report an exception, a hang and a memory hoard.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { runCampaign, type CampaignOptions } from '../../scripts/fuzz/campaign.js';
import { defaultCampaign } from '../../scripts/fuzz/defaults.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SECONDS_PER_TARGET = 3;
const RANDOM_SEED = 13;

function campaign(targetPath: string, findingsDir: string, overrides: Partial<CampaignOptions> = {}): CampaignOptions {
  return {
    ...defaultCampaign,
    targetPath,
    corpusDirs: [path.join(here, 'corpus', path.basename(targetPath, '.ts'))],
    findingsDir,
    seconds: SECONDS_PER_TARGET,
    randomSeed: RANDOM_SEED,
    inputTimeoutMs: 10_000,
    ...overrides,
  };
}

const targets = readdirSync(path.join(here, 'targets')).filter((name) => name.endsWith('.ts'));

for (const name of targets) {
  test(`fuzz target ${name} finds nothing from its seeds`, async (t) => {
    const findingsDir = tempDir(t, 'fuzz-findings');
    const result = await runCampaign(campaign(path.join(here, 'targets', name), findingsDir));
    assert.deepEqual(
      result.findings.map((finding) => `${finding.signature}\n${finding.detail}`),
      [],
    );
    const seeds = readdirSync(path.join(here, 'corpus', name.slice(0, -3))).length;
    assert.ok(seeds > 0, `no seed corpus for ${name}`);
    assert.ok(result.executions > seeds, `only ${result.executions} executions`);
    assert.ok(result.blocks > 0, 'no coverage of the target recorded');
  });
}

test('the engine reports an exception, a hang and a memory hoard, with the input that did it', async () => {
  const engineTargets = path.join(here, 'engine-targets');
  const seeds = tempDir({ after }, 'fuzz-seeds');
  const { writeFileSync, readFileSync } = await import('node:fs');
  for (const [name, seed] of [
    ['throws', 'BUG'],
    ['hangs', 'H'],
    ['hoards', 'M'],
  ]) {
    const dir = path.join(seeds, name);
    (await import('node:fs')).mkdirSync(dir);
    writeFileSync(path.join(dir, 'seed'), seed);
  }
  const findingsDir = tempDir({ after }, 'fuzz-findings');
  const expected = { throws: 'exception', hangs: 'hang', hoards: 'memory' } as const;
  for (const [name, kind] of Object.entries(expected)) {
    const result = await runCampaign(
      campaign(path.join(engineTargets, `${name}.ts`), path.join(findingsDir, name), {
        corpusDirs: [path.join(seeds, name)],
        seconds: 2,
        inputTimeoutMs: name === 'hangs' ? 300 : 10_000,
        memoryLimitBytes: 16 << 20,
        memoryPerInputByte: 1024,
      }),
    );
    assert.deepEqual(
      result.findings.map((finding) => finding.kind),
      [kind],
      `${name}: ${result.findings.map((finding) => finding.signature).join(', ')}`,
    );
    assert.equal(readFileSync(result.findings[0].file, 'latin1'), readFileSync(path.join(seeds, name, 'seed'), 'latin1'));
  }
});
