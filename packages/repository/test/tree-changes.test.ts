import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { serializeTree, type TreeEntry } from '@gitfleet/git-format';
import { treeEntries, visitChangedEntries } from '../src/bitmaps/tree-changes.js';

const id = (text: string) => createHash('sha1').update(text).digest('hex');
const FILE = '100644';
const DIR = '40000';

/** Git's order: names bytewise, a directory's as if it ended in '/'. */
function sorted(entries: TreeEntry[]): TreeEntry[] {
  const key = (e: TreeEntry) => Buffer.from(e.mode === DIR ? `${e.name}/` : e.name);
  return [...entries].sort((a, b) => Buffer.compare(key(a), key(b)));
}

/** What visitChangedEntries must report: every entry the base lacks as it is, with the base's subtree of the same name when both are directories. */
function expectedChanges(tree: TreeEntry[], base: TreeEntry[] | undefined): string[] {
  return tree.flatMap((entry) => {
    const same = base?.find((b) => b.name === entry.name && (b.mode === DIR) === (entry.mode === DIR));
    if (same && same.mode === entry.mode && same.oid === entry.oid) return [];
    const baseSubtree = same && same.mode === DIR && entry.mode === DIR ? same.oid : undefined;
    return [`${entry.name} ${entry.oid} ${baseSubtree ?? '-'}`];
  });
}

function changes(tree: TreeEntry[], base: TreeEntry[] | undefined): { reported: string[]; starts: number[] | undefined } {
  const data = serializeTree(tree);
  const reported: string[] = [];
  const kept = visitChangedEntries(data, base && treeEntries(serializeTree(base)), true, (entry, baseSubtree) => {
    const name = data.toString('utf8', entry.nameStart, entry.nameEnd);
    reported.push(`${name} ${data.toString('hex', entry.nameEnd + 1, entry.nameEnd + 21)} ${baseSubtree ?? '-'}`);
  });
  return { reported, starts: kept && [...kept.starts] };
}

function check(tree: TreeEntry[], base: TreeEntry[] | undefined, label: string): void {
  const { reported, starts } = changes(tree, base);
  assert.deepEqual(reported, expectedChanges(tree, base), label);
  assert.deepEqual(starts, [...treeEntries(serializeTree(tree)).starts], `${label}: the entries' starts, for a tree based on it`);
}

const many = (count: number, prefix = 'file-') =>
  Array.from({ length: count }, (_, i): TreeEntry => ({
    mode: FILE,
    name: `${prefix}${String(i).padStart(5, '0')}`,
    oid: id(`${prefix}${i}`),
  }));

test('a tree against its base: only what the base does not hold as it is, wherever in the tree it changed', () => {
  const base = sorted([...many(3000), { mode: DIR, name: 'dir', oid: id('dir') }, { mode: DIR, name: 'zzz', oid: id('zzz') }]);
  const at = (i: number) => base[i].name;
  check(base, undefined, 'no base: every entry');
  check(base, base, 'the same tree: nothing');
  check(sorted([...base, { mode: FILE, name: 'added', oid: id('added') }]), base, 'one added at the start');
  check(sorted([...base, { mode: FILE, name: 'file-01500x', oid: id('x') }]), base, 'one added in the middle');
  check(sorted([...base, { mode: FILE, name: '~last', oid: id('last') }]), base, 'one added at the end');
  check(
    base.filter((e) => e.name !== at(1500)),
    base,
    'one removed',
  );
  check(base.slice(1), base, 'the first removed');
  check(
    base.map((e) => (e.name === at(2999) ? { ...e, oid: id('changed') } : e)),
    base,
    'one file changed',
  );
  check(
    base.map((e) => (e.name === 'dir' ? { ...e, oid: id('dir changed') } : e)),
    base,
    'a subtree changed: its base subtree is given',
  );
  check(
    base.map((e) => (e.name === at(7) ? { ...e, mode: '100755' } : e)),
    base,
    'a mode changed',
  );
  check(
    sorted([...base.filter((e) => e.name !== 'dir'), { mode: FILE, name: 'dir', oid: id('dir') }]),
    base,
    'a directory turned file of the same name and id',
  );
  check([], base, 'the empty tree');
  check(base, [], 'against the empty tree');
});

test("entries whose bytes resemble the base's elsewhere: names holding modes and other names, ids shared by several names", () => {
  const shared = id('shared');
  const base = sorted([
    ...many(200, 'a-'),
    { mode: FILE, name: 'foo', oid: shared },
    { mode: FILE, name: 'foo.c', oid: shared },
    { mode: DIR, name: 'foo-dir', oid: id('foo-dir') },
    ...many(200, 'z-'),
  ]);
  // A new name that ends with a whole entry of the base's: its bytes run into the common suffix.
  const tricky = sorted([...base, { mode: FILE, name: 'bar100644 foo', oid: shared }]);
  check(tricky, base, 'a name ending in another entry');
  check(base, tricky, 'the same, removed');
  // The tree's last entry starts inside the common suffix, in the middle of the base's last entry.
  const ends = [
    { mode: FILE, name: '~x', oid: id('x') },
    { mode: FILE, name: '~y', oid: shared },
  ];
  check(
    sorted([...base, ...ends]),
    sorted([...base, { mode: FILE, name: '~q100644 ~y', oid: shared }]),
    'an entry starting mid-way in one of the base',
  );
  check(sorted([...base, { mode: FILE, name: '~q100644 ~y', oid: shared }]), sorted([...base, ...ends]), 'the same, the other way');
  check(sorted([...base.filter((e) => e.name !== 'foo'), { mode: FILE, name: 'fop', oid: shared }]), base, 'renamed, same id');
  for (let seed = 1; seed <= 200; seed++) {
    let state = seed;
    const random = (n: number) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
    let tree = [...base];
    for (let edits = 1 + random(4); edits > 0; edits--) {
      const i = random(tree.length + 1);
      const kind = random(3);
      if (kind === 0) tree.splice(i, 1);
      else if (kind === 1 && i < tree.length) tree[i] = { ...tree[i], oid: id(`edit ${seed} ${edits}`) };
      else
        tree.push({
          mode: random(2) ? DIR : FILE,
          name: `${tree[Math.min(i, tree.length - 1)]?.name ?? 'x'}${random(3) ? '' : '100644 '}n${seed}`,
          oid: random(2) ? shared : id(`new ${seed}`),
        });
    }
    tree = sorted(tree.filter((e, i, all) => all.findIndex((o) => o.name === e.name) === i));
    check(tree, base, `random edits, seed ${seed}`);
  }
});
