import { Session } from 'node:inspector';

/*
 * V8's own block coverage is the fuzzer's feedback: with precise coverage on, every function
 * keeps a count per block, and each takePreciseCoverage returns the counts since the last one
 * (it resets them). A block's count, bucketed as AFL buckets hit counts (1, 2, 3, 4-7, 8-15,
 * 16-31, 32-127, 128+), is a feature; an input that shows a feature never seen before is
 * kept in the corpus.
 */

interface CoverageRange {
  startOffset: number;
  endOffset: number;
  count: number;
}

interface ScriptCoverage {
  scriptId: string;
  url: string;
  functions: Array<{ ranges: CoverageRange[] }>;
}

/** A session on this thread's own isolate (a worker's, in the fuzzer). */
export class BlockCoverage {
  private readonly session = new Session();
  /** scriptId → slot for scripts under the watched paths, -1 for the others. */
  private readonly slots = new Map<string, number>();
  private nextSlot = 0;
  /** Feature key → bitmask of the count buckets seen. */
  private readonly seen = new Map<number, number>();
  private blocks = 0;

  constructor(private readonly watchedPaths: readonly string[]) {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  /** Blocks of the watched files executed at least once so far. */
  get coveredBlocks(): number {
    return this.blocks;
  }

  /** Forgets the counts gathered so far (those of loading the target, say) without recording them. */
  reset(): void {
    this.post('Profiler.takePreciseCoverage');
  }

  /**
   * Takes the counts since the last call; records them and returns whether they show a new
   * feature. With `record` false, only tells (for trying inputs without keeping them).
   */
  collect(record = true): boolean {
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    let fresh = false;
    for (const script of result) {
      const slot = this.slotOf(script);
      if (slot < 0) continue;
      for (const fn of script.functions) {
        for (const range of fn.ranges) {
          if (range.count === 0) continue;
          // Ranges are unique by their span within a script; 21 bits each hold files under 2 MB.
          const key = slot * 2 ** 42 + range.startOffset * 2 ** 21 + (range.endOffset - range.startOffset);
          const bucket = bucketOf(range.count);
          const before = this.seen.get(key) ?? 0;
          if ((before & bucket) !== 0) continue;
          fresh = true;
          if (!record) return true;
          if (before === 0) this.blocks++;
          this.seen.set(key, before | bucket);
        }
      }
    }
    return fresh;
  }

  close(): void {
    this.session.disconnect();
  }

  private slotOf(script: ScriptCoverage): number {
    let slot = this.slots.get(script.scriptId);
    if (slot === undefined) {
      slot = this.watchedPaths.some((watched) => script.url.includes(watched)) ? this.nextSlot++ : -1;
      this.slots.set(script.scriptId, slot);
    }
    return slot;
  }

  /** A same-thread session answers synchronously: the callback has run when post returns. */
  private post(method: string, params?: object): unknown {
    let answer: { error: Error | null; result: unknown } | undefined;
    this.session.post(method, params, (error, result) => {
      answer = { error, result };
    });
    if (answer === undefined) throw new Error(`inspector ${method} did not answer synchronously`);
    if (answer.error) throw answer.error;
    return answer.result;
  }
}

function bucketOf(count: number): number {
  if (count <= 3) return 1 << (count - 1);
  if (count <= 7) return 1 << 3;
  if (count <= 15) return 1 << 4;
  if (count <= 31) return 1 << 5;
  if (count <= 127) return 1 << 6;
  return 1 << 7;
}
