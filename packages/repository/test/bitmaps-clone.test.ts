import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { git, gitText } from '@gitfleet/test-support/git';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { enumerateObjects, planPack, streamPack, type Enumeration, type PackStats, type Repository } from '../src/index.js';
import { ReachedObjects, type PackBitmaps } from '../src/bitmaps/index.js';
import { pushMore, repackedRepo, revList, storedBitmaps, type RepackedRepo } from './bitmaps-fixtures.js';

const dir = tempDir({ after }, 'bitmaps-clone');
let fixture: RepackedRepo;
let bitmaps: PackBitmaps;

before(async () => {
  fixture = await repackedRepo(dir, 150);
  bitmaps = await storedBitmaps(fixture);
});

async function outputPack(repo: Repository, enumeration: Enumeration): Promise<{ bytes: Buffer; stats: PackStats }> {
  const send = enumeration.objects;
  const chunks: Buffer[] = [];
  const pack = streamPack(repo, await planPack(repo.packs, send), { send, ofsDelta: true, thin: false, clientHas: enumeration.clientHas });
  for (;;) {
    const next = await pack.next();
    if (next.done) return { bytes: Buffer.concat(chunks), stats: next.value };
    chunks.push(...next.value);
  }
}

/** The ids of a pack as git's index-pack reads it (it refuses a pack it cannot resolve whole). */
function gitReads(bytes: Buffer, name: string): Set<string> {
  const packPath = path.join(dir, `${name}.pack`);
  writeFileSync(packPath, bytes);
  git(dir, ['index-pack', packPath]);
  return new Set(
    gitText(dir, ['show-index'], readFileSync(packPath.replace(/\.pack$/, '.idx')))
      .split('\n')
      .map((line) => line.split(' ')[1]),
  );
}

describe('clones through bitmaps', () => {
  test('a full clone of a repacked repository is the stored pack byte for byte, but for its header and trailer', async () => {
    const enumeration = await enumerateObjects(fixture.repo.objects, { wants: fixture.tips, haves: [] }, { bitmaps });
    assert.ok(enumeration.objects instanceof ReachedObjects, 'enumerated through the bitmaps');
    const { bytes, stats } = await outputPack(fixture.repo, enumeration);
    const stored = readFileSync(fixture.packPath);
    assert.equal(stats.total, fixture.pack.index.objectCount);
    assert.equal(stats.reused, stats.total);
    assert.ok(bytes.subarray(12, -20).equals(stored.subarray(12, -20)), 'entries copied as stored');
    assert.deepEqual(gitReads(bytes, 'full'), revList(fixture.dir, ['--objects', '--all']));
  });

  test('enumerateObjects with bitmaps answers as without them, less what the haves reach; shallow requests and tree depth filters walk', async () => {
    await pushMore(fixture, 'main', 2, dir);
    const main = fixture.rev('main');
    const tagged = [fixture.rev('refs/tags/v1.0'), fixture.rev('refs/tags/v1.0-signed')];
    // The first commit: the tagged one is sent, and its tags come along.
    const have = gitText(fixture.dir, ['rev-list', '--max-parents=0', 'main']);
    const request = { wants: [main], haves: [have], includeTags: tagged };
    const viaBitmaps = await enumerateObjects(fixture.repo.objects, request, { bitmaps });
    const walked = await enumerateObjects(fixture.repo.objects, request);
    assert.ok(viaBitmaps.objects instanceof ReachedObjects);
    // The pushed commits bring back the first commit's main.txt: the walk sends it again, bitmaps know the client has it.
    const onClient = revList(fixture.dir, ['--objects', have]);
    assert.deepEqual(new Set(viaBitmaps.objects), new Set([...walked.objects].filter((oid) => !onClient.has(oid))));
    assert.ok(tagged.every((tag) => viaBitmaps.objects.has(tag)));
    const { bytes } = await outputPack(fixture.repo, viaBitmaps);
    // The output holds the objects enumerated; git resolves every delta in it.
    assert.deepEqual(gitReads(bytes, 'fetch'), new Set(viaBitmaps.objects));

    const shallow = await enumerateObjects(fixture.repo.objects, { wants: [main], haves: [], shallow: new Set([main]) }, { bitmaps });
    assert.ok(!(shallow.objects instanceof ReachedObjects));
    const deep = await enumerateObjects(
      fixture.repo.objects,
      { wants: [main], haves: [], filter: { kind: 'tree', depth: 2 } },
      { bitmaps },
    );
    assert.ok(!(deep.objects instanceof ReachedObjects));
  });

  test('a clone that wants every tip the clone pack was written for takes it whole without reading a bitmap; one that wants fewer reads them', async () => {
    await pushMore(fixture, 'main', 1, dir);
    const pushed = fixture.rev('main');
    let bitmapsRead = 0;
    const counting: PackBitmaps = Object.create(bitmaps, {
      storedReach: { value: (oid: string) => (bitmapsRead++, bitmaps.storedReach(oid)) },
    });
    const layers = { clonePack: bitmaps.checksum, cloneTips: new Set(fixture.tips) };
    // Every tip of the repack and a branch pushed since.
    const wants = [...fixture.tips, pushed];
    const whole = await enumerateObjects(fixture.repo.objects, { wants, haves: [] }, { bitmaps: counting, layers });
    assert.equal(bitmapsRead, 0);
    assert.ok(whole.objects instanceof ReachedObjects);
    assert.equal(whole.objects.reached.bits.count(), fixture.pack.index.objectCount);
    const walked = await enumerateObjects(fixture.repo.objects, { wants, haves: [] });
    assert.deepEqual(new Set(whole.objects), new Set(walked.objects));
    assert.deepEqual(gitReads((await outputPack(fixture.repo, whole)).bytes, 'whole'), new Set(walked.objects));

    const fewer = [...fixture.tips.slice(1), pushed];
    const partial = await enumerateObjects(fixture.repo.objects, { wants: fewer, haves: [] }, { bitmaps: counting, layers });
    assert.ok(bitmapsRead > 0, 'the bitmaps are read');
    assert.deepEqual(
      new Set(partial.objects),
      new Set((await enumerateObjects(fixture.repo.objects, { wants: fewer, haves: [] })).objects),
    );
  });
});
