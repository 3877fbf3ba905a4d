import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoopPacer } from '@gitfleet/repository';
import { loopLagDuring } from '@gitfleet/test-support/event-loop';
import {
  BranchFilter,
  BranchFilterDecisions,
  branchFilterMatches,
  hookWants,
  validateBranchFilter,
  type FilterDecisionStats,
  type Hook,
  type HookEvent,
} from '../src/index.js';

const LIMITS = { maxLength: 256, maxWildcards: 32 };
/** The default of GITFLEET_HOOK_BRANCH_FILTER_STEPS_PER_PUSH. */
const STEPS_PER_PUSH = 100_000_000;
/** The longest ref name receive-pack accepts by default (GITFLEET_MAX_REF_NAME_BYTES). */
const REF_NAME_BYTES = 1000;

/**
 * The costliest filter the limits allow (256 characters, 31 `**`): against a long run of `a`
 * every state of its automaton stays alive, ~470,000 steps (several ms) per 1,000-byte name.
 */
const WORST = `${'**a'.repeat(31)}${'a'.repeat(256 - 93 - 1)}b`;

/** Branch i: ~1,000 bytes, mostly `a`; it ends with `b` (so WORST matches it) when i is a multiple of 7. */
const branchRef = (i: number) =>
  `refs/heads/${String(i).padStart(5, '0')}${'a'.repeat(REF_NAME_BYTES - 'refs/heads/'.length - 6)}${i % 7 === 0 ? 'b' : 'c'}`;

/** What each filter of these tests selects, from how the names are built. */
const SELECTS: Record<string, (i: number) => boolean> = {
  [WORST]: (i) => i % 7 === 0,
  '*b': (i) => i % 7 === 0,
  '{00001,00002}*': (i) => i === 1 || i === 2,
  '': () => true,
};

function hook(id: number, branchFilter: string): Hook {
  return {
    id,
    target: { kind: 'repository', repositoryId: 'r1', owner: 'o', name: 'r' },
    active: true,
    events: ['*'],
    config: { url: 'https://ci.example/hook', contentType: 'json', secret: '', insecureSsl: false },
    branchFilter,
    createdAt: '',
    updatedAt: '',
    lastResponse: { code: null, status: 'unused', message: null },
    consecutiveFailures: 0,
  };
}

interface RefEventStub {
  event: HookEvent;
  ref: string;
}

/** A push creating `count` branches (a create and a push event each) and a tag, expanded for `hooks` as the webhook service does. */
async function expand(
  hooks: Hook[],
  count: number,
  maxSteps: number,
): Promise<{ selected: Map<number, string[]>; stats: FilterDecisionStats; maxGapMs: number }> {
  const events: RefEventStub[] = [];
  for (let i = 0; i < count; i++) events.push({ event: 'create', ref: branchRef(i) }, { event: 'push', ref: branchRef(i) });
  events.push({ event: 'push', ref: 'refs/tags/v1' });

  const { value, maxLagMs } = await loopLagDuring(async () => {
    const pacer = new LoopPacer(5);
    const filters = await BranchFilterDecisions.decide(
      hooks.map((h) => h.branchFilter),
      events.map((e) => e.ref),
      { maxSteps, pacer },
    );
    const selected = new Map<number, string[]>(hooks.map((h) => [h.id, []]));
    for (const h of hooks) {
      for (const { event, ref } of events) {
        await pacer.step();
        if (hookWants(h, event) && filters.selects(h.branchFilter, ref)) selected.get(h.id)!.push(`${event} ${ref}`);
      }
    }
    return { selected, stats: filters.stats };
  });
  return { ...value, maxGapMs: maxLagMs };
}

function expected(filter: string, indexes: Iterable<number>): string[] {
  const events: string[] = [];
  for (const i of indexes) if (SELECTS[filter](i)) events.push(`create ${branchRef(i)}`, `push ${branchRef(i)}`);
  return events;
}

const range = (count: number) => Array.from({ length: count }, (_, i) => i);

describe('branch filters of a push', () => {
  it('the filters of these tests are allowed and select what SELECTS says', () => {
    validateBranchFilter(WORST, LIMITS);
    assert.equal(WORST.length, 256);
    for (const [filter, selects] of Object.entries(SELECTS)) {
      for (const i of [0, 1, 2, 3, 7])
        assert.equal(branchFilterMatches(filter, branchRef(i)), selects(i), `${filter.slice(0, 20)} against branch ${i}`);
    }
  });

  it('decide exactly what each filter selects, compiling each filter once', async () => {
    const hooks = [hook(1, WORST), hook(2, WORST), hook(3, '*b'), hook(4, '{00001,00002}*'), hook(5, '')];
    const count = 150;
    const { selected, stats, maxGapMs } = await expand(hooks, count, STEPS_PER_PUSH);
    assert.equal(stats.undecided, 0);
    assert.equal(stats.compilations, 4, 'one compilation per distinct filter, whatever the hooks and refs');
    for (const h of hooks)
      assert.deepEqual(selected.get(h.id), [...expected(h.branchFilter, range(count)), 'push refs/tags/v1'], `hook ${h.id}`);
    assert.ok(maxGapMs < 250, `the event loop was held ${maxGapMs.toFixed(0)} ms`);
  });

  it('bound the work of the reviewer`s push (3,800 branches of 1,000 bytes, the costliest filter) and never hold the event loop', async () => {
    const hooks = [hook(1, WORST), hook(2, '*b'), hook(3, WORST), hook(4, '{00001,00002}*'), hook(5, '')];
    const count = 3800;
    const started = performance.now();
    const { selected, stats, maxGapMs } = await expand(hooks, count, STEPS_PER_PUSH);
    const elapsedMs = performance.now() - started;
    assert.ok(maxGapMs < 250, `the event loop was held ${maxGapMs.toFixed(0)} ms`);
    assert.equal(stats.compilations, 4);
    // The budget is checked per character: one character of the costliest filter may overrun it.
    assert.ok(stats.steps <= STEPS_PER_PUSH + 2 * BranchFilter.compile(WORST).size, `${stats.steps} steps`);
    assert.ok(elapsedMs < 30_000, `took ${elapsedMs.toFixed(0)} ms`);

    // Cheaper filters are decided first: their hooks get exactly their events.
    for (const id of [2, 4, 5]) {
      const h = hooks[id - 1];
      assert.deepEqual(selected.get(id), [...expected(h.branchFilter, range(count)), 'push refs/tags/v1'], `hook ${id}`);
    }
    // The costliest filter is decided for the first branches until the budget is spent; the
    // others count as not matching. Tags never need the budget.
    const decided = count - stats.undecided;
    assert.ok(decided > 0 && decided < count, `${decided} branches decided`);
    for (const id of [1, 3]) assert.deepEqual(selected.get(id), [...expected(WORST, range(decided)), 'push refs/tags/v1'], `hook ${id}`);
  });

  it('count a filter that does not parse as selecting no branch, and tags as always selected', async () => {
    const filters = await BranchFilterDecisions.decide(['[abc'], ['refs/heads/a', 'refs/tags/v1'], {
      maxSteps: 1000,
      pacer: new LoopPacer(5),
    });
    assert.equal(filters.selects('[abc', 'refs/heads/a'), false);
    assert.equal(filters.selects('[abc', 'refs/tags/v1'), true);
    assert.throws(() => filters.selects('main', 'refs/heads/main'), /was not decided/);
  });
});
