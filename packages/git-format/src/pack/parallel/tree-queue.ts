import { PackFormatError } from '../entry.js';
import { PackLimitExceeded } from '../limits.js';
import { TreeAbandoned, type TreeResolver } from '../tree-resolver.js';
import { ObjectRejected } from './object-sink.js';

const NEXT = 0;
/** The order of the earliest tree that failed; trees after it are not started, or given up. */
const STOP_AT = 1;
const RESOLVED = 2;

/** What threads taking trees from one queue share (structured-cloneable, over shared memory). */
export interface TreeQueueParts {
  roots: Int32Array;
  state: Int32Array;
}

/** A failure of the tree at `order` in the queue, as it crosses threads. */
export interface TreeFailure {
  order: number;
  name: string;
  message: string;
  limit?: PackLimitExceeded['limit'];
  stack?: string;
}

/**
 * The trees of pass two in pack order, taken one at a time by whichever thread is free, as git's
 * threaded_second_pass does. Trees are disjoint, so the table entries each writes are its own;
 * what must match a run on one thread is the outcome, and for that the earliest failing tree in
 * pack order wins: a thread that fails tree k stops everyone from starting trees after k and
 * makes those in flight give up, and trees before k still run to completion (or their own failure).
 */
export class TreeQueue {
  /** The tree this thread is resolving. */
  private current = -1;

  private constructor(private readonly parts: TreeQueueParts) {}

  static create(roots: readonly number[]): TreeQueue {
    const shared = new Int32Array(new SharedArrayBuffer(4 * roots.length));
    shared.set(roots);
    const state = new Int32Array(new SharedArrayBuffer(12));
    state[STOP_AT] = roots.length;
    return new TreeQueue({ roots: shared, state });
  }

  static attach(parts: TreeQueueParts): TreeQueue {
    return new TreeQueue(parts);
  }

  get shared(): TreeQueueParts {
    return this.parts;
  }

  get resolvedDeltas(): number {
    return Atomics.load(this.parts.state, RESOLVED);
  }

  countResolved(): number {
    return Atomics.add(this.parts.state, RESOLVED, 1) + 1;
  }

  /** Resolves trees until none is left or one failed: returns this thread's earliest failure. */
  async drain(resolver: TreeResolver): Promise<TreeFailure | undefined> {
    const { roots, state } = this.parts;
    for (;;) {
      const order = Atomics.add(state, NEXT, 1);
      if (order >= roots.length || order > Atomics.load(state, STOP_AT)) return undefined;
      this.current = order;
      try {
        await resolver.resolveStoredRoot(roots[order]);
      } catch (error) {
        if (error instanceof TreeAbandoned) return undefined;
        this.stopAfter(order);
        return describeFailure(order, error);
      }
    }
  }

  /** For this thread's TreeResolver: whether a tree before the one it resolves failed. */
  readonly abandoned = (): boolean => Atomics.load(this.parts.state, STOP_AT) < this.current;

  private stopAfter(order: number): void {
    const state = this.parts.state;
    for (let seen = Atomics.load(state, STOP_AT); order < seen; seen = Atomics.load(state, STOP_AT)) {
      if (Atomics.compareExchange(state, STOP_AT, seen, order) === seen) return;
    }
  }
}

function describeFailure(order: number, error: unknown): TreeFailure {
  if (!(error instanceof Error)) return { order, name: 'Error', message: String(error) };
  const limit = error instanceof PackLimitExceeded ? error.limit : undefined;
  const name = error instanceof ObjectRejected ? 'ObjectRejected' : error instanceof PackFormatError ? 'PackFormatError' : error.name;
  return { order, name, message: error.message, limit, stack: error.stack };
}

/** The failure as the error the tree's resolver threw, as far as its class can be known on this side. */
export function failureError(failure: TreeFailure): Error {
  if (failure.limit !== undefined) return new PackLimitExceeded(failure.limit, failure.message);
  if (failure.name === 'PackFormatError') return new PackFormatError(failure.message);
  if (failure.name === 'ObjectRejected') return new ObjectRejected(failure.message);
  const error = new Error(`resolving deltas on a helper thread: ${failure.message}`);
  error.stack = failure.stack;
  return error;
}
