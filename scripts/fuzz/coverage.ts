import { Session } from 'node:inspector';

/*
 * V8's own block coverage is the fuzzer's feedback: with precise coverage on, every function
 * keeps a count per block, and each takePreciseCoverage returns the counts since the last one
 * (it resets them). Two kinds of features come out of a take:
 *  - source positions executed: V8 merges a nested block into its parent, and neighbouring
 *    blocks together, when their counts are equal, so the ranges it reports differ from input
 *    to input for the same code; the set of positions they cover as executed does not. A
 *    position executed for the first time is new coverage, the only test a batch of inputs gets.
 *  - each reported range's count, bucketed as AFL buckets hit counts (1, 2, 3, 4-7, 8-15,
 *    16-31, 32-127, 128+): a loop run a new number of times, for an input run alone.
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
  /** Per slot, 1 at each source position ever executed. */
  private readonly executed: Uint8Array[] = [];
  private positions = 0;
  /** Scratch for painting one take. */
  private painted: Uint8Array = new Uint8Array(0);

  constructor(private readonly watchedPaths: readonly string[]) {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  /** Distinct ranges (blocks, or runs of blocks V8 merged) of the watched files executed so far. */
  get coveredBlocks(): number {
    return this.blocks;
  }

  /** Source characters of the watched files executed so far. */
  get coveredPositions(): number {
    return this.positions;
  }

  /** Forgets the counts gathered so far (those of loading the target, say) without recording them. */
  reset(): void {
    this.post('Profiler.takePreciseCoverage');
  }

  /**
   * Takes the counts since the last call, records them and tells whether they show a new
   * feature (a position run for the first time, or a range run a new number of times).
   */
  collect(): boolean {
    return this.take('record');
  }

  /**
   * Takes the counts since the last call and tells whether they ran a source position never run
   * before, recording nothing: for a batch of inputs, whose summed counts say nothing of any one.
   */
  runsNewCode(): boolean {
    return this.take('new-block');
  }

  private take(mode: 'record' | 'new-block'): boolean {
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    const record = mode === 'record';
    let fresh = false;
    for (const script of result) {
      const slot = this.slotOf(script);
      if (slot < 0) continue;
      if (this.executedNewPositions(slot, script, record)) {
        if (!record) return true;
        fresh = true;
      }
      if (record && this.recordCounts(slot, script)) fresh = true;
    }
    return fresh;
  }

  /**
   * Whether the take ran a position of the script never run before; with `record`, remembers
   * them. Positions are painted outer functions first, then each function's ranges in V8's
   * order (a block after the blocks that contain it), so the innermost count decides.
   */
  private executedNewPositions(slot: number, script: ScriptCoverage, record: boolean): boolean {
    const functions = [...script.functions].sort((a, b) => spanOf(b) - spanOf(a));
    const end = functions.reduce((max, fn) => Math.max(max, fn.ranges[0]?.endOffset ?? 0), 0);
    const now = (this.painted = atLeast(this.painted, end));
    now.fill(0, 0, end);
    for (const fn of functions) {
      for (const range of fn.ranges) now.fill(range.count > 0 ? 1 : 0, range.startOffset, range.endOffset);
    }
    const ever = (this.executed[slot] = atLeast(this.executed[slot] ?? new Uint8Array(0), end));
    let fresh = false;
    for (let at = 0; at < end; at++) {
      if (now[at] === 1 && ever[at] === 0) {
        fresh = true;
        if (!record) break;
        ever[at] = 1;
        this.positions++;
      }
    }
    return fresh;
  }

  /** Records each range's count bucket; whether one was new. */
  private recordCounts(slot: number, script: ScriptCoverage): boolean {
    let fresh = false;
    for (const fn of script.functions) {
      for (const range of fn.ranges) {
        if (range.count === 0) continue;
        // Ranges are unique by their span within a script; 21 bits each hold files under 2 MB.
        const key = slot * 2 ** 42 + range.startOffset * 2 ** 21 + (range.endOffset - range.startOffset);
        const before = this.seen.get(key) ?? 0;
        const bucket = bucketOf(range.count);
        if ((before & bucket) !== 0) continue;
        fresh = true;
        if (before === 0) this.blocks++;
        this.seen.set(key, before | bucket);
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

function spanOf(fn: { ranges: CoverageRange[] }): number {
  const whole = fn.ranges[0];
  return whole === undefined ? 0 : whole.endOffset - whole.startOffset;
}

/** `array`, or a zero-filled copy grown to hold `length` bytes. */
function atLeast(array: Uint8Array, length: number): Uint8Array {
  if (array.length >= length) return array;
  const grown = new Uint8Array(Math.max(length, 2 * array.length));
  grown.set(array);
  return grown;
}
