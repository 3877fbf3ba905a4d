import { PackFormatError } from './entry.js';

/**
 * Bounds on the work one pack may cause while it is indexed. A delta is a few bytes that can
 * ask for 64 KiB of copying per instruction, and its result can be the base of the next: a
 * pack of kilobytes can expand to gigabytes. The bounds hold whatever the input, because they
 * are checked before each inflate and each delta application, not after.
 */
export interface PackLimits {
  /** Bytes that inflating entries and applying deltas may produce in total, rebuilt bases included. */
  maxInflatedBytes: number;
  /** Inflated bytes per byte of pack, past `expansionAllowance`. */
  maxExpansionRatio: number;
  /**
   * Inflated bytes any pack may produce whatever its size: a one-line change to a large file is
   * a tiny pack that expands to that file (a thin pack's base is counted when deltas use it).
   */
  expansionAllowance: number;
  /** Deltas between an object and the whole object its chain starts from (git's pack-objects allows 4095). */
  maxDeltaDepth: number;
}

/** The deepest chain git's pack-objects writes: --depth is capped at (1 << OE_DEPTH_BITS) - 1. */
export const GIT_MAX_DELTA_DEPTH = 4095;

export const UNLIMITED_PACK: PackLimits = {
  maxInflatedBytes: Number.MAX_SAFE_INTEGER,
  maxExpansionRatio: Number.MAX_SAFE_INTEGER,
  expansionAllowance: Number.MAX_SAFE_INTEGER,
  maxDeltaDepth: Number.MAX_SAFE_INTEGER,
};

/** A pack refused for the work it would cause rather than for being malformed. */
export class PackLimitExceeded extends PackFormatError {
  override name = 'PackLimitExceeded';

  constructor(
    readonly limit: 'inflated-bytes' | 'expansion-ratio' | 'delta-depth',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Indexing would do more work than the caller's `workCap` allows (IndexPackOptions): not a
 * fault of the pack. Thrown before indexPack has written anything, so that the same file can
 * be indexed again without the cap, elsewhere (receive-pack moves it off the event loop).
 */
export class IndexWorkCapReached extends Error {
  override name = 'IndexWorkCapReached';

  constructor(readonly cap: number) {
    super(`indexing this pack takes more than ${cap} bytes of expansion`);
  }
}

/** What threads sharing one ExpansionBudget pass each other (structured-cloneable). */
export interface SharedBudget {
  limits: PackLimits;
  packBytes: number;
  /** One BigInt64 on a SharedArrayBuffer: the bytes spent so far. */
  spent: SharedArrayBuffer;
}

/**
 * Counts the bytes a pack expands to and refuses the charge that would cross a limit. The count
 * can live in shared memory: threads resolving one pack charge it with a compare-and-swap, so the
 * bound stays exact however many of them expand the pack at once.
 */
export class ExpansionBudget {
  private spent: BigInt64Array;
  private readonly ratioBound: number;

  /** `spent`: bytes already produced for this pack, e.g. by indexing it, when more work on it follows. */
  constructor(
    private readonly limits: PackLimits,
    private readonly packBytes: number,
    spent = 0,
  ) {
    this.ratioBound = limits.maxExpansionRatio * packBytes + limits.expansionAllowance;
    this.spent = new BigInt64Array(new SharedArrayBuffer(8));
    this.spent[0] = BigInt(spent);
  }

  /** The budget another thread charged through `share()`: both see and charge one count. */
  static attach(shared: SharedBudget): ExpansionBudget {
    const budget = new ExpansionBudget(shared.limits, shared.packBytes);
    budget.spent = new BigInt64Array(shared.spent);
    return budget;
  }

  share(): SharedBudget {
    return { limits: this.limits, packBytes: this.packBytes, spent: this.spent.buffer as SharedArrayBuffer };
  }

  get inflatedBytes(): number {
    return Number(Atomics.load(this.spent, 0));
  }

  /** Call before producing `bytes`: throws instead of letting the work start. */
  charge(bytes: number): void {
    const add = BigInt(bytes);
    for (;;) {
      const before = Atomics.load(this.spent, 0);
      const spent = Number(before + add);
      if (spent > this.limits.maxInflatedBytes) {
        throw new PackLimitExceeded('inflated-bytes', `pack expands to more than ${this.limits.maxInflatedBytes} bytes`);
      }
      if (spent > this.ratioBound) {
        throw new PackLimitExceeded(
          'expansion-ratio',
          `pack of ${this.packBytes} bytes expands to more than ${Math.floor(this.ratioBound)} bytes (${this.limits.maxExpansionRatio} times its size plus ${this.limits.expansionAllowance})`,
        );
      }
      if (Atomics.compareExchange(this.spent, 0, before, before + add) === before) return;
    }
  }

  /** `depth` is the number of deltas from the whole object at the root of the chain. */
  checkDepth(depth: number, entryOffset: number): void {
    if (depth > this.limits.maxDeltaDepth) {
      throw new PackLimitExceeded(
        'delta-depth',
        `delta at offset ${entryOffset} ends a chain of more than ${this.limits.maxDeltaDepth} deltas (the limit)`,
      );
    }
  }
}
