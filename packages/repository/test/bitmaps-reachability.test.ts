import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { git, gitText } from '@gitfleet/test-support/git';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { enumerateObjects, parseFilterSpec } from '../src/index.js';
import { bitmapReachability, loadPackBitmaps, PackBitmapsCache, ReachedObjects, type PackBitmaps } from '../src/bitmaps/index.js';
import { pushMore, repackedRepo, revList, storedBitmaps, type RepackedRepo } from './bitmaps-fixtures.js';
import { sidecarBlobKey } from '../src/keys.js';

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
