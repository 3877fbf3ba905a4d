import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BranchFilter,
  BranchFilterError,
  HookValidationError,
  branchFilterMatches,
  parseHookSettings,
  validateBranchFilter,
} from '../src/index.js';

const LIMITS = { maxLength: 256, maxWildcards: 32 };
const branch = (name: string) => `refs/heads/${name}`;

describe('branch filters', () => {
  it('match as the documented globs do', () => {
    const cases: Array<[string, string, boolean]> = [
      ['main', 'main', true],
      ['main', 'main2', false],
      ['release/*', 'release/1.0', true],
      ['release/*', 'release/1/hotfix', false],
      ['release/*', 'release', false],
      ['feature/**', 'feature', true],
      ['feature/**', 'feature/a', true],
      ['feature/**', 'feature/a/b', true],
      ['feature/**', 'featurex', false],
      ['a/**/b', 'a/b', true],
      ['a/**/b', 'a/x/y/b', true],
      ['a/**/b', 'a/xb', false],
      ['**/fix', 'fix', true],
      ['**/fix', 'team/x/fix', true],
      ['**', 'any/thing', true],
      ['a**b', 'ax/yb', true],
      ['?', 'x', true],
      ['a?b', 'a/b', false],
      ['[a-c]x', 'bx', true],
      ['[a-c]x', 'dx', false],
      ['[!a-c]x', 'dx', true],
      ['[^a-c]x', 'bx', false],
      ['[]]', ']', true],
      ['{main,release/*}', 'release/1', true],
      ['{main,release/*}', 'main', true],
      ['{main,release/*}', 'feature', false],
      ['{a,{b,c}}x', 'cx', true],
      ['v{1,2}.*', 'v2.9', true],
      ['v{1,2}.*', 'v3.9', false],
      ['\\*', '*', true],
      ['\\*', 'a', false],
      ['!main', 'main', false],
      ['!main', 'dev', true],
      ['*', 'deep/branch', true],
      ['', 'anything', true],
      ['*.txt', '.txt', true],
    ];
    for (const [filter, name, expected] of cases) {
      assert.equal(branchFilterMatches(filter, branch(name)), expected, `${JSON.stringify(filter)} against ${JSON.stringify(name)}`);
    }
    assert.equal(branchFilterMatches('main', 'refs/tags/v1'), true, 'tags always pass');
  });

  it('refuse malformed, long and wildcard-heavy filters when a hook is saved (422 material)', () => {
    for (const bad of ['[abc', '{a,b', '{a}', 'a}', '(a|b)', '+(x)', 'a|b', '[[:alpha:]]', 'x\\', '[z-a]']) {
      assert.throws(() => validateBranchFilter(bad, LIMITS), BranchFilterError, bad);
    }
    assert.throws(() => validateBranchFilter('a'.repeat(257), LIMITS), /at most 256/);
    assert.throws(() => validateBranchFilter('*a'.repeat(33), LIMITS), /33 wildcards.*at most 32/);
    validateBranchFilter('*a'.repeat(32), LIMITS);
    // The finding's filter: 21 characters that froze picomatch's regex for 27.5 s.
    const catastrophic = '*a*a*a*a*a*a*a*a*a*a*';
    assert.throws(() => validateBranchFilter(catastrophic, { maxLength: 256, maxWildcards: 8 }), /11 wildcards/);
    assert.throws(
      () =>
        parseHookSettings(
          { config: { url: 'https://ci.example/hook' }, branch_filter: '*'.repeat(2).concat('a*'.repeat(40)) },
          { branchFilter: LIMITS },
        ),
      (error: unknown) => error instanceof HookValidationError && error.field === 'branch_filter' && /wildcards/.test(error.message),
    );
  });

  it('match a pathological but allowed filter against a long name in bounded work', () => {
    const filter = `${'*a'.repeat(30)}*b`;
    validateBranchFilter(filter, { maxLength: 256, maxWildcards: 32 });
    const name = 'a'.repeat(4096);
    const compiled = BranchFilter.compile(filter);
    const stats = { steps: 0 };
    const started = process.hrtime.bigint();
    assert.equal(compiled.matches(name, stats), false);
    assert.equal(compiled.matches(`${name}b`), true);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    // Each character visits every state at most twice (its test, and its closure).
    assert.ok(
      stats.steps <= 2 * compiled.size * (name.length + 1),
      `${stats.steps} steps for ${compiled.size} states × ${name.length} characters`,
    );
    assert.ok(elapsedMs < 1000, `took ${elapsedMs} ms`);
  });

  it('never backtracks on the finding`s pair (21-character filter, 44-character branch)', () => {
    const stats = { steps: 0 };
    const name = `${'a'.repeat(43)}x`;
    assert.equal(branchFilterMatches('*a*a*a*a*a*a*a*a*a*a*b', branch(name), stats), false);
    assert.ok(stats.steps < 10_000, `${stats.steps} steps`);
  });
});
