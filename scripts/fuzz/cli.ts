/**
 * Coverage-guided fuzzing of Gitfleet's parsers: `pnpm fuzz [--seconds N] [target...]`.
 *
 * The engine is our own (campaign.ts, worker.ts) because the known JS fuzzers do not run here:
 * @jazzer.js/core 4.x needs GLIBC 2.38 for its native prebuild (Debian 12 has 2.36, it fails
 * with ERR_DLOPEN_FAILED), 1.x-2.x download theirs from GitHub and cannot build one offline,
 * and jsfuzz parses with esprima, which reads neither TypeScript nor ES modules. V8's block
 * coverage through node:inspector gives the same feedback without native code.
 *
 * Targets are test/fuzz/targets/<name>.ts; seeds test/fuzz/corpus/<name>/; grown corpus and
 * findings go under .fuzz/ (gitignored). Exits 1 when any target had a finding.
 */
import { Command, InvalidArgumentError } from 'commander';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCampaign, type CampaignResult } from './campaign.js';
import { defaultCampaign } from './defaults.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const targetsDir = path.join(root, 'test/fuzz/targets');

function positiveNumber(value: string): number {
  const number = Number(value);
  if (!(number > 0)) throw new InvalidArgumentError('expected a positive number');
  return number;
}

function availableTargets(): string[] {
  return readdirSync(targetsDir)
    .filter((name) => name.endsWith('.ts'))
    .map((name) => name.slice(0, -3))
    .sort();
}

function summary(name: string, result: CampaignResult): string {
  const rate = Math.round(result.executions / Math.max(result.seconds, 0.001));
  return `${name}: ${result.executions} executions in ${result.seconds.toFixed(0)} s (${rate}/s), corpus ${result.corpusSize}, coverage ${result.blocks} blocks (${result.positions} source characters), ${result.findings.length} findings`;
}

async function main(): Promise<void> {
  const program = new Command('fuzz')
    .description('Runs each fuzz target (all of them by default) for a time; exits 1 on a finding.')
    .argument('[targets...]', `targets among: ${availableTargets().join(', ')}`)
    .option('--seconds <n>', 'seconds per target', positiveNumber, 60)
    .option('--seed <n>', 'random seed (default: time)', positiveNumber)
    .option('--timeout-ms <n>', 'per-input time limit', positiveNumber, 5000)
    .parse();
  const options = program.opts<{ seconds: number; seed?: number; timeoutMs: number }>();
  const names = program.args.length > 0 ? program.args : availableTargets();
  const unknown = names.filter((name) => !availableTargets().includes(name));
  if (unknown.length > 0) program.error(`unknown fuzz targets: ${unknown.join(', ')} (available: ${availableTargets().join(', ')})`);

  let findings = 0;
  for (const name of names) {
    const randomSeed = options.seed ?? Date.now() % 2 ** 31;
    console.log(`${name}: fuzzing for ${options.seconds} s (seed ${randomSeed})`);
    const result = await runCampaign({
      ...defaultCampaign,
      targetPath: path.join(targetsDir, `${name}.ts`),
      corpusDirs: [path.join(root, 'test/fuzz/corpus', name), path.join(root, '.fuzz/corpus', name)],
      grownCorpusDir: path.join(root, '.fuzz/corpus', name),
      findingsDir: path.join(root, '.fuzz/findings', name),
      seconds: options.seconds,
      randomSeed,
      inputTimeoutMs: options.timeoutMs,
      log: (line) => console.log(`${name}: ${line}`),
    });
    console.log(summary(name, result));
    findings += result.findings.length;
  }
  if (findings > 0) {
    console.log(`${findings} findings: inputs and stacks under .fuzz/findings/`);
    process.exitCode = 1;
  }
}

await main();
