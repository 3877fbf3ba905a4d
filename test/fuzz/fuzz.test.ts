/**
 * Every fuzz target, briefly (`pnpm fuzz` runs them for longer), from the committed seeds with
 * a fixed random seed: a finding fails the test with the input saved and its stack. And the
 * engine itself: it must report an exception, a hang, and memory out of proportion to the input.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
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

/** Engine test targets (engine-targets/) and the seed that sets each off. */
const MISBEHAVING = [
  { name: 'peaks', seed: 'P', kind: 'memory' },
  { name: 'throws', seed: 'BUG', kind: 'exception' },
  { name: 'hangs', seed: 'H', kind: 'hang' },
  { name: 'hoards', seed: 'M', kind: 'memory' },
] as const;

for (const { name, seed, kind } of MISBEHAVING) {
  test(`the engine reports the ${kind} of engine-targets/${name}.ts with the input that caused it`, async (t) => {
    const seeds = tempDir(t, 'fuzz-seeds');
    writeFileSync(path.join(seeds, 'seed'), seed);
    const result = await runCampaign(
      campaign(path.join(here, 'engine-targets', `${name}.ts`), tempDir(t, 'fuzz-findings'), {
        corpusDirs: [seeds],
        seconds: 2,
        inputTimeoutMs: kind === 'hang' ? 300 : 10_000,
        memoryLimitBytes: 16 << 20,
      }),
    );
    assert.deepEqual(
      result.findings.map((finding) => finding.kind),
      [kind],
      result.findings.map((finding) => finding.signature).join(', '),
    );
    assert.equal(readFileSync(result.findings[0].file, 'latin1'), seed);
  });
}
