import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  MemoryBlobStore,
  PlacementBlobStore,
  hasDirectWriteUrls,
  type DirectWrite,
  type DirectWriteContent,
  type DirectWriteOutcome,
  type DirectWriteUrls,
} from '@gitfleet/storage';

function contentOf(bytes: Buffer): DirectWriteContent {
  return { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** A store in memory whose "direct writes" a test performs itself with write(). */
class WritableStore extends MemoryBlobStore implements DirectWriteUrls {
  failing = false;
  constructor(readonly name: string) {
    super();
  }

  async directWriteUrl(key: string, content: DirectWriteContent): Promise<DirectWrite> {
    return { method: 'PUT', url: `https://${this.name}.example/${key}`, headers: { 'x-sha256': content.sha256 } };
  }

  async completeDirectWrite(key: string, content: DirectWriteContent): Promise<DirectWriteOutcome> {
    if (this.failing) throw new Error(`${this.name} is down`);
    const stored = await this.get(key);
    if (!stored) return 'missing';
    if (contentOf(stored).sha256 === content.sha256) return 'stored';
    await this.delete(key);
    return 'mismatch';
  }
}

describe('direct write URLs of a placement', () => {
  const members = ['a', 'b', 'c'].map((name) => ({ name, store: new WritableStore(name) }));
  const placement = new PlacementBlobStore({ stores: members, replicas: 2 });
  const storeNamed = (name: string) => members.find((member) => member.name === name)!.store;

  it('go to the first store in placement order; completing copies the blob to R stores', async () => {
    assert.ok(hasDirectWriteUrls(placement));
    assert.equal(hasDirectWriteUrls(new MemoryBlobStore()), false);
    const bytes = Buffer.from('large file');
    const key = 'lfs/objects/one';
    const [first, second, third] = placement.placement(key);
    const write = await placement.directWriteUrl(key, contentOf(bytes), { expiresInSeconds: 60 });
    assert.equal(write?.url, `https://${first}.example/${key}`);
    assert.equal(await placement.completeDirectWrite(key, contentOf(bytes)), 'missing');

    await storeNamed(first).putIfAbsent(key, bytes);
    assert.equal(await placement.completeDirectWrite(key, contentOf(bytes)), 'stored');
    assert.deepEqual(await storeNamed(second).get(key), bytes);
    assert.equal(await storeNamed(third).head(key), undefined);
  });

  it('report a blob of other bytes as a mismatch, and leave no copy of it', async () => {
    const key = 'lfs/objects/two';
    const [first] = placement.placement(key);
    await storeNamed(first).putIfAbsent(key, Buffer.from('not what was announced'));
    assert.equal(await placement.completeDirectWrite(key, contentOf(Buffer.from('announced'))), 'mismatch');
    assert.equal(await placement.head(key), undefined);
  });

  it('fail, rather than answer missing, when a store that may hold the copy does not answer', async () => {
    const key = 'lfs/objects/three';
    const bytes = Buffer.from('three');
    const [first] = placement.placement(key);
    await storeNamed(first).putIfAbsent(key, bytes);
    storeNamed(first).failing = true;
    try {
      await assert.rejects(placement.completeDirectWrite(key, contentOf(bytes)), /check of directly written blob/);
    } finally {
      storeNamed(first).failing = false;
    }
  });
});
