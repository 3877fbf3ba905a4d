import { readFileSync } from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { git, gitText } from '@gitfleet/test-support/git';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { enumerateObjects, parseFilterSpec, type ObjectReader } from '../src/index.js';
import { parseTree, serializeTree, type TreeEntry } from '@gitfleet/git-format';
import { bitmapReachability, loadPackBitmaps, PackBitmapsCache, ReachedObjects, type PackBitmaps } from '../src/bitmaps/index.js';
import { pushMore, repackedRepo, revList, storedBitmaps, type RepackedRepo } from './bitmaps-fixtures.js';
import { sidecarBlobKey } from '../src/keys.js';
import { PackPositions } from '../src/bitmaps/pack-positions.js';
import { packObjects } from './git-fixtures.js';

const dir = tempDir({ after }, 'bitmaps-reach');
let fixture: RepackedRepo;
let bitmaps: PackBitmaps;

before(async () => {
  fixture = await repackedRepo(dir, 260);
  bitmaps = await storedBitmaps(fixture);
  // History past the bitmapped pack: what a walk must add to the bitmaps.
  await pushMore(fixture, 'main', 3, dir);
  await pushMore(fixture, 'feature', 2, dir);
});

interface Case {
  wants: string[];
  haves: string[];
  filter?: string;
}

/** The bitmap answer as ids, and the plain walk's less what the haves reach (which git leaves out with bitmaps too). */
async function bothAnswers({ wants, haves, filter }: Case): Promise<{ viaBitmaps: Set<string>; expected: Set<string> }> {
  const parsed = filter === undefined ? undefined : parseFilterSpec(filter);
  const { send } = await bitmapReachability(fixture.repo.objects, bitmaps, { wants, haves, filter: parsed });
  const plain = await enumerateObjects(fixture.repo.objects, { wants, haves, filter: parsed });
  const onClient = haves.length === 0 ? new Set<string>() : revList(fixture.dir, ['--objects', ...haves]);
  const expected = new Set([...plain.objects].filter((oid) => !onClient.has(oid)));
  return { viaBitmaps: new Set(new ReachedObjects(send, bitmaps)), expected };
}

const tips = () => gitText(fixture.dir, ['for-each-ref', '--format=%(objectname)']).split('\n');

describe('bitmapReachability', () => {
  test('a clone of every ref: the objects of the plain walk, past the bitmapped pack included', async () => {
    const { viaBitmaps, expected } = await bothAnswers({ wants: tips(), haves: [] });
    assert.equal(viaBitmaps.size, expected.size);
    assert.deepEqual(viaBitmaps, expected);
    assert.ok(viaBitmaps.has(fixture.rev('main')), 'the newest commit, outside the bitmapped pack');
  });

  test('fetches with haves, old and new, bitmapped or not: the plain walk less what the haves reach', async () => {
    const cases: Case[] = [
      { wants: [fixture.rev('main')], haves: [fixture.rev('main~5')] },
      { wants: [fixture.rev('main')], haves: [fixture.rev('main~1')] },
      { wants: [fixture.rev('main'), fixture.rev('feature')], haves: [fixture.rev('main~60'), fixture.rev('feature~20')] },
      { wants: [fixture.rev('feature')], haves: [fixture.rev('main')] },
      { wants: [fixture.rev('refs/tags/v1.0-signed'), fixture.rev('main~2')], haves: [fixture.rev('old')] },
    ];
    for (const request of cases) {
      const { viaBitmaps, expected } = await bothAnswers(request);
      assert.deepEqual(viaBitmaps, expected, JSON.stringify(request));
    }
  });

  test('filters through the type bitmaps, for clones and fetches', async () => {
    for (const filter of ['blob:none', 'blob:limit=3000', 'tree:0', 'object:type=commit', 'object:type=blob', 'combine:blob:none+tree:0']) {
      for (const haves of [[], [fixture.rev('main~7')]]) {
        const { viaBitmaps, expected } = await bothAnswers({ wants: [fixture.rev('main'), fixture.rev('feature')], haves, filter });
        assert.deepEqual(viaBitmaps, expected, `${filter} with ${haves.length} haves`);
      }
    }
  });

  test('objects asked for by name are sent whatever the filter, and tags bring what they point at', async () => {
    const tree = fixture.rev('main~30^{tree}');
    const blob = fixture.rev('main~30:main.txt');
    const treeTag = fixture.rev('refs/tags/tree-tag');
    const { viaBitmaps, expected } = await bothAnswers({ wants: [tree, blob, treeTag], haves: [], filter: 'tree:0' });
    assert.deepEqual(viaBitmaps, expected);
    for (const oid of [tree, blob, treeTag]) assert.ok(viaBitmaps.has(oid), oid);
    const noFilter = await bothAnswers({ wants: [treeTag], haves: [] });
    assert.deepEqual(noFilter.viaBitmaps, noFilter.expected);
    assert.ok(noFilter.viaBitmaps.size > 2);
  });

  test('a missing or corrupt bitmap is a warning and no bitmaps, never an error', async () => {
    const warnings: string[] = [];
    const id = fixture.repo.info.id;
    const corrupt = Buffer.from((await fixture.blobs.get(sidecarBlobKey(id, fixture.pack.checksum, 'bitmap')))!);
    corrupt[40] ^= 0xff;
    await fixture.blobs.putIfAbsent(sidecarBlobKey('other', fixture.pack.checksum, 'bitmap'), corrupt);
    assert.equal(await loadPackBitmaps(fixture.blobs, 'other', fixture.pack.index, (m) => warnings.push(m)), undefined);
    assert.equal(await loadPackBitmaps(fixture.blobs, 'absent', fixture.pack.index, (m) => warnings.push(m)), undefined);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /checksum mismatch/);
    assert.match(warnings[1], /no \.bitmap/);
  });

  test("the cache loads a pack's bitmaps once per repository and pack, and a failed load stands for a while (sidecar-cache.test.ts: then it is tried again)", async () => {
    const cache = new PackBitmapsCache(1024 * 1024);
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    const first = await cache.get(fixture.blobs, fixture.repo.info.id, fixture.pack.index, warn);
    assert.ok(first);
    assert.equal(await cache.get(fixture.blobs, fixture.repo.info.id, fixture.pack.index, warn), first);
    assert.equal(await cache.get(fixture.blobs, 'absent', fixture.pack.index, warn), undefined);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await cache.get(fixture.blobs, 'absent', fixture.pack.index, warn), undefined);
    assert.equal(warnings.length, 1, 'every request does not ask the store again');
  });

  test("commits past the pack whose trees repeat, swap or revert their parents' subtrees: what the client lacks, exactly", async () => {
    const start = fixture.rev('main');
    const history = new CommitsPastThePack(fixture.dir, dir, start);
    const blob = (text: string) => gitText(fixture.dir, ['hash-object', '-w', '--stdin'], `${text}\n`);
    const [x, y, z, w] = [blob('sparse x'), blob('sparse y'), blob('sparse z'), blob('sparse w')];
    // w is new with c1 and kept by every commit after it: only c1's tree brings it.
    const c1 = history.commit([start], { 'deep/a/x.txt': x, 'deep/b/y.txt': y, 'kept/w.txt': w, 'w.txt': w });
    const c2 = history.commit([c1], { 'deep/a/x.txt': null, 'deep/b/y.txt': null, 'deep/a/y.txt': y, 'deep/b/x.txt': x });
    const c3 = history.commit([c2], {}, `${c1}^{tree}`);
    const c4 = history.commit([c3], { 'deep/a/x.txt': null, 'deep/a': z, 'main.txt': x });
    const c5 = history.commit([c4], { 'deep/a': null, 'deep/a/new.txt': y });
    const side = history.commit([c2], { 'side.txt': z });
    const merge = history.commit([side, c5], { 'side.txt': z }, `${c5}^{tree}`);
    await history.store(fixture, merge);

    const wanted = revList(fixture.dir, ['--objects', merge]);
    for (const haves of [[], [start], [c2], [c3], [side], [c1, c4]]) {
      const { send } = await bitmapReachability(fixture.repo.objects, bitmaps, { wants: [merge], haves });
      const sent = new Set(new ReachedObjects(send, bitmaps));
      const onClient = haves.length === 0 ? new Set<string>() : revList(fixture.dir, ['--objects', ...haves]);
      const lacking = [...wanted].filter((oid) => !onClient.has(oid));
      assert.deepEqual(
        lacking.filter((oid) => !sent.has(oid)),
        [],
        `haves ${haves.join(' ')}: nothing the client lacks is left out`,
      );
      assert.deepEqual(
        [...sent].filter((oid) => !wanted.has(oid)),
        [],
        `haves ${haves.join(' ')}: nothing else is sent`,
      );
      // Of haves past the pack, only the trees of those named and met are known: what older commits
      // of theirs hold may be sent again (see the last test).
      if (haves.length === 0 || haves[0] === start) assert.deepEqual(sent, new Set(lacking), `haves ${haves.join(' ')}`);
    }
  });

  test("a fetch of commits past the pack looks up only the entries of their trees that differ from their parents' trees", async () => {
    const start = fixture.rev('main');
    const rootEntries = gitText(fixture.dir, ['ls-tree', start]).split('\n').length;
    const history = new CommitsPastThePack(fixture.dir, dir, start);
    let tip = start;
    const commits = 20;
    const shared = gitText(fixture.dir, ['hash-object', '-w', '--stdin'], 'one of many files at the root\n');
    const manyFiles = Object.fromEntries(Array.from({ length: 50 }, (_, j) => [`root-${j}.txt`, shared]));
    for (let i = 0; i < commits; i++) {
      const added = gitText(fixture.dir, ['hash-object', '-w', '--stdin'], `added ${i}\n`);
      tip = history.commit([tip], { ...(i === 0 ? manyFiles : {}), [`added-${i}.txt`]: added });
    }
    await history.store(fixture, tip);
    const lookUp = PackPositions.prototype.positionOfBytes;
    let lookups = 0;
    PackPositions.prototype.positionOfBytes = function (this: PackPositions, bytes: Uint8Array, at: number) {
      lookups++;
      return lookUp.call(this, bytes, at);
    };
    try {
      const { send } = await bitmapReachability(fixture.repo.objects, bitmaps, { wants: [tip], haves: [start] });
      const onClient = revList(fixture.dir, ['--objects', start]);
      const lacking = [...revList(fixture.dir, ['--objects', tip])].filter((oid) => !onClient.has(oid));
      assert.deepEqual(new Set(new ReachedObjects(send, bitmaps)), new Set(lacking));
    } finally {
      PackPositions.prototype.positionOfBytes = lookUp;
    }
    // The first commit's tree is looked up whole (against its parent's), each later one only for the file it adds.
    const everyEntry = commits * (rootEntries + 50);
    assert.ok(lookups < rootEntries + 50 + 4 * commits, `${lookups} lookups, against ${everyEntry} for every entry of every tree`);
  });

  test('a fetch on top of a have far past the pack walks the commits between them, not all those since the pack', async () => {
    const start = fixture.rev('main');
    const stale = chainPastThePack(fixture.dir, start, 'stale', 300);
    const fresh = chainPastThePack(fixture.dir, stale, 'fresh', 3);
    await new CommitsPastThePack(fixture.dir, dir, start).store(fixture, fresh);
    const cases = [
      { wants: [fresh], haves: [stale], label: 'new commits on the have' },
      { wants: [`${start}~5`], haves: [stale], label: 'a want in the pack, below the have' },
      { wants: [fresh], haves: [`${stale}~150`], label: 'a have half way down' },
    ].map(({ wants, haves, label }) => ({
      wants: wants.map((rev) => fixture.rev(rev)),
      haves: haves.map((rev) => fixture.rev(rev)),
      label,
    }));
    for (const { wants, haves, label } of cases) {
      const reads = { count: 0 };
      const objects = countingReads(fixture.repo.objects, reads);
      const { send } = await bitmapReachability(objects, bitmaps, { wants, haves });
      const onClient = revList(fixture.dir, ['--objects', ...haves]);
      const lacking = [...revList(fixture.dir, ['--objects', ...wants])].filter((oid) => !onClient.has(oid));
      assert.deepEqual(new Set(new ReachedObjects(send, bitmaps)), new Set(lacking), label);
      if (label === 'new commits on the have') assert.ok(reads.count < 60, `${label}: ${reads.count} objects read`);
    }
  });

  test('a tree first met under a file mode is no base: what the subtree after it holds is still sent', async () => {
    // Crafted (git fsck refuses it): tree Y is named as a file in one commit, as a directory in the next.
    const start = fixture.rev('main');
    const object = (type: string, bytes: Buffer | string) =>
      gitText(fixture.dir, ['hash-object', '-t', type, '--literally', '-w', '--stdin'], bytes);
    const tree = (entries: TreeEntry[]) => object('tree', serializeTree(entries));
    const startEntries = parseTree(git(fixture.dir, ['cat-file', 'tree', `${start}^{tree}`]));
    const [inY, added] = [object('blob', 'only in Y and S\n'), object('blob', 'added to S\n')];
    const y = tree([{ mode: '100644', name: 'in-y.txt', oid: inY }]);
    const s = tree([
      { mode: '100644', name: 'added.txt', oid: added },
      { mode: '100644', name: 'in-y.txt', oid: inY },
    ]);
    const root = (extra: TreeEntry) => tree([...startEntries, extra].sort((a, b) => (a.name < b.name ? -1 : 1)));
    const r0 = gitText(fixture.dir, ['commit-tree', root({ mode: '100644', name: 'zz', oid: y }), '-p', start, '-m', 'Y as a file']);
    const r1 = gitText(fixture.dir, ['commit-tree', root({ mode: '40000', name: 'zz', oid: y }), '-p', r0, '-m', 'Y as a directory']);
    const r2 = gitText(fixture.dir, ['commit-tree', root({ mode: '40000', name: 'zz', oid: s }), '-p', r1, '-m', 'S']);
    const ids = [r0, r1, r2, `${r0}^{tree}`, `${r1}^{tree}`, `${r2}^{tree}`].map((rev) => fixture.rev(rev)).concat([y, s, inY, added]);
    const checksum = gitText(fixture.dir, ['pack-objects', '-q', path.join(dir, 'crafted')], `${ids.join('\n')}\n`);
    const packPath = path.join(dir, `crafted-${checksum}.pack`);
    await fixture.repo.packs.add(
      packPath,
      readFileSync(packPath).length,
      readFileSync(path.join(dir, `crafted-${checksum}.idx`)),
      checksum,
    );

    const { send } = await bitmapReachability(fixture.repo.objects, bitmaps, { wants: [r2], haves: [start] });
    const sent = new Set(new ReachedObjects(send, bitmaps));
    for (const oid of [s, inY, added]) assert.ok(sent.has(oid), `${oid} is sent`);
  });

  test("a fetch whose have was pushed on an old commit sends what the client lacks and nothing it has, though the have's trees outside the pack are not walked", async () => {
    // This test adds branches, so it runs last.
    for (const back of [5, 90]) {
      git(fixture.dir, ['update-ref', `refs/heads/topic${back}`, fixture.rev(`main~${back}`)]);
      await pushMore(fixture, `topic${back}`, 1, dir);
      const have = fixture.rev(`topic${back}`);
      const wants = [fixture.rev('main')];
      const { send } = await bitmapReachability(fixture.repo.objects, bitmaps, { wants, haves: [have] });
      const sent = new Set(new ReachedObjects(send, bitmaps));
      const onClient = revList(fixture.dir, ['--objects', have]);
      const lacking = [...revList(fixture.dir, ['--objects', ...wants])].filter((oid) => !onClient.has(oid));
      assert.deepEqual(sent, new Set(lacking), `have main~${back} plus one pushed commit`);
    }
  });
});

/** Commits written into the fixture's repository by git, after its bitmapped pack; stored as one more pack, as a push would. */
class CommitsPastThePack {
  private made = 0;

  constructor(
    private readonly gitDir: string,
    private readonly workDir: string,
    private readonly start: string,
  ) {}

  /**
   * A commit on `parents` whose tree is the first parent's (or `tree`'s) with `changes` made to it:
   * a path to a blob id, or null to remove it.
   */
  commit(parents: readonly string[], changes: Record<string, string | null>, tree = `${parents[0]}^{tree}`): string {
    const env = { GIT_INDEX_FILE: path.join(this.workDir, `past-the-pack-${this.made++}`) };
    git(this.gitDir, ['read-tree', tree], undefined, env);
    // Mode 0 removes a path; removals come first, so that a file may take the place of a directory.
    const lines = Object.entries(changes)
      .sort(([, a], [, b]) => Number(a !== null) - Number(b !== null))
      .map(([file, oid]) => (oid === null ? `0 ${'0'.repeat(40)}\t${file}` : `100644 ${oid}\t${file}`));
    if (lines.length > 0) git(this.gitDir, ['update-index', '--add', '--replace', '--index-info'], `${lines.join('\n')}\n`, env);
    const written = gitText(this.gitDir, ['write-tree'], undefined, env);
    // A second apart, after the fixture's: a walk meets them newest first, as it would real pushes.
    const date = `${2_000_000_000 + this.made} +0000`;
    return gitText(
      this.gitDir,
      ['commit-tree', written, ...parents.flatMap((parent) => ['-p', parent]), '-m', `past the pack ${this.made}`],
      undefined,
      {
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_DATE: date,
      },
    );
  }

  async store(fixture: RepackedRepo, tip: string): Promise<void> {
    const built = packObjects(this.gitDir, this.workDir, [tip, `^${this.start}`], { offsetDeltas: true });
    await fixture.repo.packs.add(built.packPath, built.packSize, built.idx, built.checksum);
  }
}

/** Seconds of the chains' commits: each a second after the one before, as pushes come. */
let chainTime = 2_100_000_000;

/** `count` commits on `from`, each changing one file, written by one git fast-import; returns the last. */
function chainPastThePack(gitDir: string, from: string, label: string, count: number): string {
  const commands = [`reset refs/chains/${label}`, `from ${from}`, ''];
  for (let i = 0; i < count; i++) {
    const message = `${label} ${i}`;
    commands.push(
      `commit refs/chains/${label}`,
      `committer Chain <chain@example.com> ${chainTime++} +0000`,
      `data ${Buffer.byteLength(message)}`,
      message,
      `M 100644 inline ${label}.txt`,
      `data ${Buffer.byteLength(message)}`,
      message,
      '',
    );
  }
  git(gitDir, ['fast-import', '--quiet'], `${commands.join('\n')}\n`);
  return gitText(gitDir, ['rev-parse', `refs/chains/${label}`]);
}

/** `objects` with its reads counted in `reads`. */
function countingReads(objects: ObjectReader, reads: { count: number }): ObjectReader {
  return new Proxy(objects, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property !== 'read' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) => {
        reads.count++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
