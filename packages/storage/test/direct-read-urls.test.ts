import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBlobStore, PlacementBlobStore, hasDirectReadUrls, type DirectReadUrls, type PlacementMember } from '@gitfleet/storage';

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
