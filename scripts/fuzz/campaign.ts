/**
 * One fuzzing campaign: a target run for a time in a worker thread (worker.ts), watched from
 * here. The worker reports new corpus entries and exceptions; a hang (no progress past the
 * per-input time limit) or an out-of-memory ends the worker, and this side saves the input it
 * was running (from shared memory) and starts a new worker on the corpus so far.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { MAX_INPUT_BYTES, type FindingKind, type WorkerConfig, type WorkerMessage, type WorkerStats } from './protocol.js';
import { SharedInput } from './shared-input.js';

export interface CampaignOptions {
  /** Path of the target module. */
  targetPath: string;
  /** Directories of seed inputs (missing ones are skipped). */
  corpusDirs: string[];
  /** Where new corpus entries are written; not written when absent. */
  grownCorpusDir?: string;
  /** Where each finding's input (and a .txt with its stack) is written. */
  findingsDir: string;
  seconds: number;
  maxExecutions?: number;
  randomSeed: number;
  /** One input running longer is a hang. */
  inputTimeoutMs: number;
  /** Memory one execution may add, plus `memoryPerInputByte` per byte of its input. */
  memoryLimitBytes: number;
  memoryPerInputByte: number;
  /** Heap of the worker (an input exhausting it is a finding). */
  workerHeapMb: number;
  log?(line: string): void;
}

export interface Finding {
  kind: FindingKind;
  signature: string;
  detail: string;
  /** Where the input was saved. */
  file: string;
}

export interface CampaignResult extends WorkerStats {
  seconds: number;
  findings: Finding[];
}

const WATCH_EVERY_MS = 100;

export async function runCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const started = Date.now();
  const deadline = started + options.seconds * 1000;
  const corpus = options.corpusDirs.flatMap(readInputs);
  const findings: Finding[] = [];
  const signatures = new Set<string>();
  const totals: WorkerStats = { executions: 0, corpusSize: corpus.length, blocks: 0, positions: 0 };
  let round = 0;

  const record = (kind: FindingKind, input: Uint8Array, signature: string, detail: string): void => {
    if (signatures.has(signature)) return;
    signatures.add(signature);
    mkdirSync(options.findingsDir, { recursive: true });
    const file = path.join(options.findingsDir, `${kind}-${sha1(input)}`);
    writeFileSync(file, input);
    writeFileSync(`${file}.txt`, `${signature}\n\n${detail}\n`);
    findings.push({ kind, signature, detail, file });
    options.log?.(`finding: ${signature} (input ${input.length} bytes saved to ${file})`);
  };

  while (Date.now() < deadline && totals.executions < (options.maxExecutions ?? Infinity)) {
    const outcome = await runWorker(
      options,
      {
        targetUrl: pathToFileURL(path.resolve(options.targetPath)).href,
        seeds: corpus,
        deadline,
        maxExecutions: (options.maxExecutions ?? Infinity) - totals.executions,
        randomSeed: options.randomSeed + round++,
        shared: SharedInput.create(MAX_INPUT_BYTES).buffer,
        memoryLimitBytes: options.memoryLimitBytes,
        memoryPerInputByte: options.memoryPerInputByte,
      },
      {
        onCorpus(input) {
          corpus.push(Buffer.from(input));
          if (options.grownCorpusDir) {
            mkdirSync(options.grownCorpusDir, { recursive: true });
            writeFileSync(path.join(options.grownCorpusDir, sha1(input)), input);
          }
        },
        onFinding: record,
      },
    );
    // A worker started again replays the corpus: its coverage and corpus start over, its executions add up.
    totals.executions += outcome.executions;
    totals.blocks = Math.max(totals.blocks, outcome.blocks);
    totals.positions = Math.max(totals.positions, outcome.positions);
    totals.corpusSize = Math.max(totals.corpusSize, outcome.corpusSize);
    if (outcome.fatal) record(outcome.fatal.kind, outcome.fatal.input, outcome.fatal.signature, outcome.fatal.detail);
    else break;
  }
  return { ...totals, seconds: (Date.now() - started) / 1000, findings };
}

interface WorkerOutcome extends WorkerStats {
  /** What ended the worker early: a hang, an out-of-memory, an error outside any input. */
  fatal?: { kind: FindingKind; input: Uint8Array; signature: string; detail: string };
}

interface WorkerListeners {
  onCorpus(input: Uint8Array): void;
  onFinding(kind: FindingKind, input: Uint8Array, signature: string, detail: string): void;
}

function runWorker(options: CampaignOptions, config: WorkerConfig, listeners: WorkerListeners): Promise<WorkerOutcome> {
  const shared = new SharedInput(config.shared);
  const worker = new Worker(workerMain(new URL('./worker.ts', import.meta.url)), {
    workerData: config,
    resourceLimits: { maxOldGenerationSizeMb: options.workerHeapMb },
  });
  const last: WorkerStats = { executions: 0, corpusSize: 0, blocks: 0, positions: 0 };
  return new Promise((resolve, reject) => {
    let watchedExecution = -1;
    let watchedSince = Date.now();
    let fatal: WorkerOutcome['fatal'];
    const watchdog = setInterval(() => {
      const running = shared.runningExecution();
      if (running !== watchedExecution) {
        watchedExecution = running;
        watchedSince = Date.now();
        return;
      }
      if (running < 0 || Date.now() - watchedSince < options.inputTimeoutMs) return;
      const input = shared.lastInput();
      fatal = {
        kind: 'hang',
        input,
        signature: 'hang: an input ran past the time limit',
        detail: `an input ran more than ${options.inputTimeoutMs} ms`,
      };
      clearInterval(watchdog);
      void worker.terminate();
    }, WATCH_EVERY_MS);

    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'corpus') listeners.onCorpus(message.input);
      else if (message.type === 'finding') listeners.onFinding(message.kind, message.input, message.signature, message.detail);
      else
        Object.assign(last, {
          executions: message.executions,
          corpusSize: message.corpusSize,
          blocks: message.blocks,
          positions: message.positions,
        });
    });
    worker.on('error', (error: Error & { code?: string }) => {
      const input = shared.lastInput();
      fatal ??=
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? { kind: 'memory', input, signature: 'memory: heap exhausted', detail: error.message }
          : { kind: 'crash', input, signature: `crash: ${error.name}: ${error.message}`, detail: error.stack ?? error.message };
    });
    worker.on('exit', () => {
      clearInterval(watchdog);
      if (fatal && fatal.kind === 'crash' && last.executions === 0 && watchedExecution < 0) {
        reject(new Error(`fuzz worker for ${config.targetUrl} failed before fuzzing: ${fatal.detail}`));
        return;
      }
      resolve({ ...last, fatal });
    });
  });
}

/**
 * A main module for the worker that loads `url` as an ES module. tsx's hooks, which the
 * process's --import gave this thread, do not reach a worker's dynamic import: the worker
 * registers them itself first, so that the targets (and the product modules, which use
 * import.meta.resolve) load as the ES modules they are.
 */
function workerMain(url: URL): URL {
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(url.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

function readInputs(dir: string): Buffer[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names.map((name) => readFileSync(path.join(dir, name)));
}

function sha1(data: Uint8Array): string {
  return createHash('sha1').update(data).digest('hex');
}
