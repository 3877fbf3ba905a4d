import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  MemoryBlobStore,
  PlacementBlobStore,
  S3BlobStore,
  hasDirectReadUrls,
  type DirectReadUrls,
  type PlacementMember,
} from '@gitfleet/storage';
import { remoteEnv, skipRemoteStores, uniqueName } from '@gitfleet/test-support/stores';

/** A store in memory that makes URLs of the blobs it holds (or fails to, when told). */
class UrlStore extends MemoryBlobStore implements DirectReadUrls {
  failing = false;
  constructor(readonly name: string) {
    super();
  }

  async directReadUrl(key: string, { expiresInSeconds }: { expiresInSeconds: number }): Promise<string | undefined> {
    if (this.failing) throw new Error(`${this.name} is down`);
    return (await this.head(key)) ? `https://${this.name}.example/${key}?expires=${expiresInSeconds}` : undefined;
  }
}

/** A key whose first preferred store is `name`. */
function keyPreferring(placement: PlacementBlobStore, name: string): string {
  for (let i = 0; ; i++) if (placement.placement(`packs/k${i}`)[0] === name) return `packs/k${i}`;
}

describe('direct read URLs of a placement', () => {
  it('come from a store that holds a copy and can make them; none when only other stores hold it', async () => {
    const plain = new MemoryBlobStore();
    const withUrls = new UrlStore('b');
    const members: PlacementMember[] = [
      { name: 'a', store: plain },
      { name: 'b', store: withUrls },
    ];
    const placement = new PlacementBlobStore({ stores: members, replicas: 1 });
    assert.ok(hasDirectReadUrls(placement));
    assert.equal(hasDirectReadUrls(plain), false);

    const onB = keyPreferring(placement, 'b');
    await placement.putIfAbsent(onB, Buffer.from('pack b'));
    assert.equal(await placement.directReadUrl(onB, { expiresInSeconds: 60 }), `https://b.example/${onB}?expires=60`);

    const onA = keyPreferring(placement, 'a');
    await placement.putIfAbsent(onA, Buffer.from('pack a'));
    assert.equal(await placement.directReadUrl(onA, { expiresInSeconds: 60 }), undefined);
    assert.equal(await placement.directReadUrl('packs/absent', { expiresInSeconds: 60 }), undefined);
  });

  it('pass over a store that fails for the next copy', async () => {
    const first = new UrlStore('x');
    const second = new UrlStore('y');
    const placement = new PlacementBlobStore({
      stores: [
        { name: 'x', store: first },
        { name: 'y', store: second },
      ],
      replicas: 2,
    });
    const key = keyPreferring(placement, 'x');
    await placement.putIfAbsent(key, Buffer.from('pack'));
    first.failing = true;
    assert.equal(await placement.directReadUrl(key, { expiresInSeconds: 60 }), `https://y.example/${key}?expires=60`);
  });
});

const env = skipRemoteStores
  ? undefined
  : remoteEnv(
      [
        'GITFLEET_TEST_S3_ENDPOINT',
        'GITFLEET_TEST_S3_BUCKET',
        'GITFLEET_TEST_S3_ACCESS_KEY',
        'GITFLEET_TEST_S3_SECRET_KEY',
        'GITFLEET_TEST_S3_REGION',
      ],
      'scripts/servers/radosgw.sh start',
    );

describe('presigned S3 read URLs (radosgw)', { skip: env === undefined ? 'GITFLEET_SKIP_REMOTE_STORES=1' : undefined }, () => {
  it('download the blob with no credential until they expire; none for an absent blob', async () => {
    if (env instanceof Error) throw env;
    const store = new S3BlobStore({
      endpoint: env!.GITFLEET_TEST_S3_ENDPOINT,
      bucket: env!.GITFLEET_TEST_S3_BUCKET,
      region: env!.GITFLEET_TEST_S3_REGION,
      prefix: `${uniqueName('presign')}/`,
      credentials: { accessKeyId: env!.GITFLEET_TEST_S3_ACCESS_KEY, secretAccessKey: env!.GITFLEET_TEST_S3_SECRET_KEY },
    });
    try {
      const bytes = randomBytes(100_000);
      await store.putIfAbsent('packs/pack-1.pack', bytes);
      const url = await store.directReadUrl('packs/pack-1.pack', { expiresInSeconds: 1 });
      assert.ok(url?.startsWith(env!.GITFLEET_TEST_S3_ENDPOINT), url);
      const response = await fetch(url!);
      assert.equal(response.status, 200);
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), bytes);
      const ranged = await fetch(url!, { headers: { range: 'bytes=10-19' } });
      assert.equal(ranged.status, 206);
      assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), bytes.subarray(10, 20));
      assert.equal(await store.directReadUrl('packs/absent', { expiresInSeconds: 60 }), undefined);

      await sleep(2100);
      assert.equal((await fetch(url!)).status, 403);
      await store.delete('packs/pack-1.pack');
    } finally {
      await store.close();
    }
  });
});
