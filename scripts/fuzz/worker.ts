/**
 * The fuzzing loop, in a worker thread so that the supervisor can stop a hang (terminate()
 * interrupts even a synchronous loop) and survive an out-of-memory: replay the seeds, then
 * mutate corpus entries, run each mutant, keep those that reach new coverage and report
 * those that throw.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { BlockCoverage } from './coverage.js';
import { mutate, Random, type MutationContext } from './mutate.js';
import type { FindingKind, WorkerConfig, WorkerMessage, WorkerStats } from './protocol.js';
import { SharedInput } from './shared-input.js';
import { loadTarget, type FuzzTarget } from './target.js';

const STATS_EVERY_MS = 1000;

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function send(message: WorkerMessage): void {
  parentPort!.postMessage(message);
}

class FuzzLoop {
  private readonly corpus: Buffer[] = [];
  private readonly signatures = new Set<string>();
  private readonly shared: SharedInput;
  private readonly random: Random;
  private readonly mutation: MutationContext;
  private readonly batch = new BatchSizer();
  private executions = 0;

  constructor(
    private readonly target: FuzzTarget,
    private readonly coverage: BlockCoverage,
    private readonly config: WorkerConfig,
  ) {
    this.shared = new SharedInput(config.shared);
    this.random = new Random(config.randomSeed);
    this.mutation = { random: this.random, corpus: this.corpus, dictionary: target.dictionary, maxLength: target.maxLength };
  }

  async run(): Promise<void> {
    for (const seed of this.config.seeds) {
      const input = Buffer.from(seed).subarray(0, this.target.maxLength);
      await this.execute(input);
      // Every seed stays, even one that adds nothing: they are the shapes mutations start from.
      this.coverage.collect();
      this.corpus.push(input);
    }
    if (this.corpus.length === 0) this.corpus.push(Buffer.alloc(0));
    let nextStats = Date.now() + STATS_EVERY_MS;
    while (this.executions < this.config.maxExecutions) {
      const now = Date.now();
      if (now >= this.config.deadline) break;
      if (now >= nextStats) {
        nextStats = now + STATS_EVERY_MS;
        send({ type: 'stats', ...this.stats() });
      }
      await this.runBatch(this.batch.size(this.config.maxExecutions - this.executions));
    }
    send({ type: 'done', ...this.stats() });
  }

  /**
   * Runs `size` mutants and takes coverage once. One mutant alone is judged by every feature;
   * a batch only by whether it ran new code, and then its mutants run again, halves at a time,
   * to find which did (rare once coverage settles: most batches cost one take).
   */
  private async runBatch(size: number): Promise<void> {
    const mutants: Buffer[] = [];
    const started = performance.now();
    for (let i = 0; i < size; i++) {
      const input = mutate(this.pickParent(), this.mutation);
      await this.execute(input);
      mutants.push(input);
    }
    const ran = performance.now();
    const fresh = size === 1 ? this.coverage.collect() : this.coverage.runsNewCode();
    this.batch.measured((ran - started) / size, performance.now() - ran);
    if (size === 1) {
      if (fresh) this.keep(mutants[0]);
      return;
    }
    if (fresh) await this.bisect(mutants);
  }

  /** Finds the mutants of a batch that ran new code: halves run again, a take each, down to single inputs. */
  private async bisect(mutants: Buffer[]): Promise<void> {
    if (mutants.length === 1) {
      await this.attempt(mutants[0]);
      if (this.coverage.collect()) this.keep(mutants[0]);
      return;
    }
    const half = mutants.length >> 1;
    for (const part of [mutants.slice(0, half), mutants.slice(half)]) {
      for (const input of part) await this.attempt(input);
      if (this.coverage.runsNewCode()) await this.bisect(part);
    }
  }

  private keep(input: Buffer): void {
    this.corpus.push(input);
    send({ type: 'corpus', input });
  }

  private stats(): WorkerStats {
    return {
      executions: this.executions,
      corpusSize: this.corpus.length,
      blocks: this.coverage.coveredBlocks,
      positions: this.coverage.coveredPositions,
    };
  }

  /** Recent entries are the frontier of coverage: a quarter of the time, one of the last 16. */
  private pickParent(): Buffer {
    const recent = Math.min(16, this.corpus.length);
    if (this.random.chance(4)) return this.corpus[this.corpus.length - 1 - this.random.below(recent)];
    return this.random.pick(this.corpus);
  }

  private async execute(input: Buffer): Promise<void> {
    this.executions++;
    const before = memoryInUse();
    const peakBefore = peakResidentBytes();
    const failure = await this.attempt(input);
    if (failure !== undefined) {
      this.report('exception', input, failure);
      return;
    }
    const budget = this.config.memoryLimitBytes + this.config.memoryPerInputByte * input.length;
    // Memory taken and given back within the run shows only in the process's peak.
    const peakGrowth = peakResidentBytes() - peakBefore;
    if (peakGrowth > budget) {
      const detail = `peak resident memory grew by ${peakGrowth} bytes running an input of ${input.length} bytes (budget ${budget})`;
      this.report('memory', input, new Error(detail));
      return;
    }
    if (memoryInUse() - before <= budget) return;
    // Garbage of earlier inputs may have been counted: measure this one again from a clean heap.
    collectGarbage();
    const clean = memoryInUse();
    await this.attempt(input);
    const grown = memoryInUse() - clean;
    if (grown > budget) {
      const detail = `memory grew by ${grown} bytes running an input of ${input.length} bytes (budget ${budget})`;
      this.report('memory', input, new Error(detail));
    }
    collectGarbage();
  }

  /** Runs the target on `input`; what it threw, if anything. */
  private async attempt(input: Buffer): Promise<unknown> {
    // The target gets its own copy: it may modify it (fixing up a checksum), the corpus keeps the original.
    const copy = Buffer.from(input);
    this.shared.begin(copy);
    try {
      const result = this.target.fuzz(copy);
      if (result !== undefined) await result;
      return undefined;
    } catch (error) {
      return error ?? new Error(`target threw ${String(error)}`);
    } finally {
      this.shared.end();
    }
  }

  private report(kind: FindingKind, input: Buffer, error: unknown): void {
    // Growth has no stack worth telling apart: one memory finding per run.
    const signature = kind === 'memory' ? 'memory: out of proportion to the input' : signatureOf(kind, error, this.target.coverage);
    if (this.signatures.has(signature)) return;
    this.signatures.add(signature);
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    send({ type: 'finding', kind, input: Buffer.from(input), signature, detail });
  }
}

/**
 * How many mutants share one coverage take. A take costs milliseconds whatever the input (V8
 * walks every function of the isolate), a parser's execution microseconds: taking coverage
 * after each would spend nearly all the time there. Batches keep the takes to about a third of
 * the time; a target whose inputs take longer than half a take runs them one by one.
 */
class BatchSizer {
  private static readonly MAX = 64;
  private executionMs = 1;
  private takeMs = 1;
  private round = 0;

  size(remaining: number): number {
    // Now and then one mutant alone, judged by its counts as well as its blocks.
    if (++this.round % 16 === 0) return 1;
    const size = Math.floor((2 * this.takeMs) / Math.max(this.executionMs, 1e-3));
    return Math.max(1, Math.min(BatchSizer.MAX, size, remaining));
  }

  measured(executionMs: number, takeMs: number): void {
    this.executionMs = 0.9 * this.executionMs + 0.1 * executionMs;
    this.takeMs = 0.9 * this.takeMs + 0.1 * takeMs;
  }
}

/** The process's peak resident set: it rises only when a new peak is reached, so a rise happened during the run. */
function peakResidentBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Heap and external (Buffer) memory of this thread, garbage included. */
function memoryInUse(): number {
  const heap = getHeapStatistics();
  return heap.used_heap_size + heap.external_memory;
}

/**
 * What makes two findings the same bug: the error's class and the first stack frame in the
 * target's sources (messages carry offsets and sizes that differ from input to input).
 */
function signatureOf(kind: FindingKind, error: unknown, sources: readonly string[]): string {
  if (!(error instanceof Error)) return `${kind}: thrown ${typeof error}`;
  const frames = (error.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at '));
  const frame = frames.find((line) => sources.some((source) => line.includes(source))) ?? frames[0] ?? '';
  const location = /\(?([^() ]+:\d+):\d+\)?$/.exec(frame.trim())?.[1] ?? frame.trim();
  return `${kind}: ${error.name} at ${location.replace(/^.*?(packages|test|server)\//, '$1/')}`;
}

async function main(): Promise<void> {
  const config = workerData as WorkerConfig;
  const target = await loadTarget(config.targetUrl);
  const coverage = new BlockCoverage(target.coverage);
  coverage.reset();
  await new FuzzLoop(target, coverage, config).run();
  coverage.close();
  // A target may leave threads or timers behind (receive-pack's index pool): they must not keep the worker alive.
  process.exit(0);
}

await main();
