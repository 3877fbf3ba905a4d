import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { FileDiff } from '@gitfleet/browse';
import { highlightDiff } from '../src/web/diff-highlight.js';
import { newerQuery, olderQuery, parsePosition, type HistoryCursor, type HistoryPosition } from '../src/web/history-cursor.js';
import type { RenderPool } from '../src/web/render-pool.js';
import type { LineRun } from '../src/web/render-worker.js';

const oid = () => randomBytes(20).toString('hex');
const positionOf = (query: string) => parsePosition(Object.fromEntries(new URLSearchParams(query)));

test('"Newer" walks back the pages "Older" went through, and forgets the oldest past the URL bound', () => {
  const cursors: HistoryCursor[] = Array.from({ length: 80 }, (_, index) => ({
    after: oid(),
    pending: index % 10 === 3 ? [oid(), oid()] : [],
  }));
  const queries: string[] = [''];
  let position: HistoryPosition = positionOf('');
  for (const cursor of cursors) {
    const query = olderQuery(position, cursor);
    assert.ok(query.length < 2300, `the URL stays bounded (${query.length})`);
    queries.push(query);
    position = positionOf(query);
    assert.deepEqual(position.cursor, cursor);
  }
  // Back from the last page: each Newer query is the query that led to the page before.
  let back = 0;
  for (let page = queries.length - 1; page > 0; page--) {
    const newer = newerQuery(position);
    if (newer === undefined) break;
    assert.equal(positionOf(newer).cursor?.after, positionOf(queries[page - 1]).cursor?.after, `page ${page}`);
    position = positionOf(newer);
    back++;
  }
  assert.ok(back >= 40 && back < cursors.length, `${back} pages back, then forgotten (never a wrong page)`);
  assert.equal(position.forgotten, true);
});

test('from the second page "Newer" is the first page; the first page has none', () => {
  const first = positionOf('');
  assert.equal(newerQuery(first), undefined);
  const second = positionOf(olderQuery(first, { after: oid(), pending: [] }));
  assert.equal(newerQuery(second), '');
});

function diffOf(path: string, lines: FileDiff['hunks']): FileDiff {
  return { path, status: 'modified', additions: 1, deletions: 1, binary: false, hunks: lines };
}

/** A hunk with context around a changed line: its old side is a, old, z and its new side a, new, z. */
const hunk = {
  header: '@@ -1,3 +1,3 @@',
  lines: [
    { kind: 'context' as const, text: 'a' },
    { kind: 'del' as const, text: 'old' },
    { kind: 'add' as const, text: 'new' },
    { kind: 'context' as const, text: 'z' },
  ],
};

/** A render pool that marks each line, or takes too long (undefined) when told to. */
function fakePool(timedOut = false): RenderPool & { runs: LineRun[][] } {
  const runs: LineRun[][] = [];
  return {
    runs,
    lines: async (given: LineRun[]) => {
      runs.push(given);
      return timedOut ? undefined : given.map((run) => run.lines.map((line) => `<i>${run.language}:${line}</i>`));
    },
  } as unknown as RenderPool & { runs: LineRun[][] };
}

test('diff highlighting: each line from its side, within the byte bound, unknown languages and slow renders plain', async () => {
  const small = diffOf('src/a.ts', [hunk]);
  const unknown = diffOf('notes.unknown-extension', [hunk]);
  const big = diffOf('src/big.py', [{ header: '@@', lines: [{ kind: 'add', text: 'x'.repeat(100) }] }]);
  const pool = fakePool();
  const highlighted = await highlightDiff(pool, [small, unknown, big], 50);
  assert.deepEqual(highlighted.get(small), [['<i>ts:a</i>', '<i>ts:old</i>', '<i>ts:new</i>', '<i>ts:z</i>']]);
  assert.equal(highlighted.has(unknown), false, 'no language: plain');
  assert.equal(highlighted.has(big), false, 'over the byte bound: plain');
  assert.deepEqual(
    pool.runs[0].map((run) => run.lines),
    [
      ['a', 'old', 'z'],
      ['a', 'new', 'z'],
    ],
    'the old and the new side of the hunk',
  );

  assert.equal((await highlightDiff(fakePool(true), [small], 50)).size, 0, 'too slow: everything plain');
  const none = fakePool();
  assert.equal((await highlightDiff(none, [unknown, big], 50)).size, 0);
  assert.equal(none.runs.length, 0, 'nothing to highlight: the pool is not asked');
});

test('diff highlighting: rendered lines that do not match the hunks line for line are not used (plain)', async () => {
  const file = diffOf('src/a.ts', [hunk]);
  const answering = (lines: string[][]) => ({ lines: async () => lines }) as unknown as RenderPool;
  assert.equal((await highlightDiff(answering([['A', 'OLD', 'Z']]), [file], 1000)).size, 0, 'a run missing');
  assert.equal(
    (
      await highlightDiff(
        answering([
          ['A', 'OLD', 'Z'],
          ['A', 'NEW'],
        ]),
        [file],
        1000,
      )
    ).size,
    0,
    'a line missing',
  );
  assert.equal((await highlightDiff(answering([['A', 'OLD', 'Z'], ['A', 'NEW', 'Z'], ['Y']]), [file], 1000)).size, 0, 'a run too many');
  assert.deepEqual(
    (
      await highlightDiff(
        answering([
          ['A', 'OLD', 'Z'],
          ['A', 'NEW', 'Z'],
        ]),
        [file],
        1000,
      )
    ).get(file),
    [['A', 'OLD', 'NEW', 'Z']],
  );
});
