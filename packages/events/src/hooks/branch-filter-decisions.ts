import { compileStoredFilter, isBranchRef, type BranchFilter, type StoredBranchFilter } from './branch-filter.js';
import type { LoopPacer } from '@gitfleet/repository';

/** The work of deciding one push's filters, for its log line and for tests. */
export interface FilterDecisionStats {
  /** Filters compiled: one per distinct filter text. */
  compilations: number;
  /** Automaton states visited, all matches together. */
  steps: number;
  /** (filter, branch) pairs the budget left undecided: they count as not matching. */
  undecided: number;
}

export interface FilterDecisionOptions {
  /** Automaton states all the matches of one push may visit together. */
  maxSteps: number;
  /** Yields to the event loop between matches. */
  pacer: LoopPacer;
}

/**
 * The branch filters of a push's hooks, decided for all its refs before any event is queued,
 * with work bounded per push whatever the filters and ref names:
 * - each distinct filter is compiled once, and matched once per distinct branch (the create and
 *   push events of a new branch, and hooks with the same filter, share the answer);
 * - all matches together visit at most `maxSteps` automaton states;
 * - the event loop gets a turn between matches (one match of the longest filter against the
 *   longest ref name costs a few milliseconds at most).
 *
 * A pair the budget could not decide counts as NOT matching, and the caller logs how many there
 * were: sending events a filter may exclude would give a receiver what it did not ask for, and
 * trying again later cannot make the match cheaper. Filters are decided cheapest first (program
 * size bounds the cost per character), so a costly filter exhausts the budget only after every
 * cheaper one has all its answers; hooks without a filter, and tags, need no budget at all. The
 * default budget is orders of magnitude above what realistic filters cost over a mirror push.
 * The budget counts steps, not time, so an expansion run twice (its worker died) selects the
 * same events.
 *
 * Limits checked when a hook is saved cannot bound this alone: one match already costs at most
 * 2 × program size × (name length + 1) steps (a few ms for the longest filter and ref name), and
 * the cost of a push grows with its refs × its hooks' filters, which only a per-push budget
 * caps; nor does the number of wildcards drive it (one `**` before 250 literal characters keeps
 * as many states alive as 31 of them).
 */
export class BranchFilterDecisions {
  private constructor(
    private readonly filters: ReadonlyMap<string, StoredBranchFilter>,
    /** Per compiled filter: the branch refs it matches. */
    private readonly matched: ReadonlyMap<string, ReadonlySet<string>>,
    readonly stats: FilterDecisionStats,
  ) {}

  static async decide(
    filterTexts: Iterable<string>,
    refs: Iterable<string>,
    options: FilterDecisionOptions,
  ): Promise<BranchFilterDecisions> {
    const stats: FilterDecisionStats = { compilations: 0, steps: 0, undecided: 0 };
    const filters = new Map<string, StoredBranchFilter>();
    for (const text of filterTexts) {
      await options.pacer.step();
      if (filters.has(text)) continue;
      filters.set(text, compileStoredFilter(text));
      stats.compilations++;
    }
    const branches = [...new Set([...refs].filter(isBranchRef))];
    const compiled = [...filters]
      .filter((entry): entry is [string, BranchFilter] => typeof entry[1] !== 'string')
      .sort(([, a], [, b]) => a.size - b.size);
    const matched = new Map<string, Set<string>>();
    for (const [text, filter] of compiled) {
      const refsMatched = new Set<string>();
      matched.set(text, refsMatched);
      for (const ref of branches) {
        await options.pacer.step();
        const remaining = options.maxSteps - stats.steps;
        if (remaining <= 0) {
          stats.undecided++;
          continue;
        }
        const outcome = filter.matchWithin(ref.slice('refs/heads/'.length), remaining);
        stats.steps += outcome.steps;
        if (outcome.matched === undefined) stats.undecided++;
        else if (outcome.matched) refsMatched.add(ref);
      }
    }
    return new BranchFilterDecisions(filters, matched, stats);
  }

  /** True when `filter` (one of those decided) lets `ref` through. */
  selects(filter: string, ref: string): boolean {
    if (!isBranchRef(ref)) return true;
    const stored = this.filters.get(filter);
    if (stored === undefined) throw new Error(`branch filter ${JSON.stringify(filter)} was not decided for this push`);
    if (stored === 'every' || stored === 'none') return stored === 'every';
    return this.matched.get(filter)!.has(ref);
  }
}
