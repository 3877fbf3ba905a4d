import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { PackTooLarge, RequestAborted, spoolPack } from '../src/receive-pack/spool.js';

async function* chunksOf(bytes: Buffer, size: number): AsyncIterable<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function* failingAfter(chunk: Buffer): AsyncIterable<Buffer> {
  yield chunk;
  throw new Error('socket hang up');
}

const body = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));

describe('spoolPack', () => {
  it('keeps a pack of at most memoryBytes in memory: no file is written', async (t) => {
    const file = path.join(tempDir(t, 'spool'), 'spool', 'a.pack');
    const pack = await spoolPack(chunksOf(body, 1000), file, 1 << 20, { memoryBytes: body.length });
    assert.equal(pack.size, body.length);
    assert.deepEqual(pack.inMemory?.contents(), body);
    assert.deepEqual(pack.stored, body);
    assert.equal(existsSync(file), false);
    await pack.remove();
  });

  it('writes a larger pack to its file whole and in order, what was held first', async (t) => {
    const file = path.join(tempDir(t, 'spool'), 'spool', 'b.pack');
    const pack = await spoolPack(chunksOf(body, 1000), file, 1 << 20, { memoryBytes: 2500 });
    assert.equal(pack.inMemory, undefined);
    assert.equal(pack.size, body.length);
    assert.equal(pack.stored, file);
    assert.deepEqual(readFileSync(file), body);
    await pack.remove();
    assert.equal(existsSync(file), false);
  });

  it('refuses a pack over the limit, in memory or on the way to the file', async (t) => {
    const dir = tempDir(t, 'spool');
    await assert.rejects(
      spoolPack(chunksOf(body, 1000), path.join(dir, 'c.pack'), 4000, { memoryBytes: 1 << 20, reason: 'over your quota' }),
      (error: Error) => error instanceof PackTooLarge && error.message === 'over your quota' && error.limit === 4000,
    );
    assert.equal(existsSync(path.join(dir, 'c.pack')), false);
    await assert.rejects(spoolPack(chunksOf(body, 1000), path.join(dir, 'd.pack'), 4000, { memoryBytes: 1500 }), PackTooLarge);
    assert.equal(existsSync(path.join(dir, 'd.pack')), false, 'the file begun is removed');
  });

  it('tells a failing request apart, while held in memory', async (t) => {
    const file = path.join(tempDir(t, 'spool'), 'e.pack');
    await assert.rejects(spoolPack(failingAfter(body), file, 1 << 20, { memoryBytes: 1 << 20 }), RequestAborted);
    assert.equal(existsSync(file), false);
  });

  it('tells a failing request apart, on the way to the file, and removes the file begun', async (t) => {
    const file = path.join(tempDir(t, 'spool'), 'f.pack');
    await assert.rejects(spoolPack(failingAfter(body), file, 1 << 20, { memoryBytes: 100 }), RequestAborted);
    assert.equal(existsSync(file), false);
  });
});
