import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SIDEBAND_64K_MAX, encodeSideband } from '../src/sideband.js';
import { FLUSH_PKT, PktLineReader, encodePktLine } from '../src/pkt-line.js';
import { writeFileSync } from 'node:fs';
import { git, gitStatus } from '@gitfleet/test-support/git';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { join } from 'node:path';

async function* once(buffer: Buffer): AsyncIterable<Buffer> {
  yield buffer;
}

/** The lengths of the pkt-lines in `framed`, as their headers give them. */
function packetLengths(framed: Buffer): number[] {
  const lengths: number[] = [];
  for (let at = 0; at < framed.length; at += lengths[lengths.length - 1]) lengths.push(parseInt(framed.toString('latin1', at, at + 4), 16));
  return lengths;
}

/** Reads side-band packets back as [channel, payload] pairs. */
async function decode(framed: Buffer): Promise<Array<[number, Buffer]>> {
  const reader = new PktLineReader(once(framed));
  const out: Array<[number, Buffer]> = [];
  for (let packet = await reader.read(); packet; packet = await reader.read()) {
    assert.equal(packet.kind, 'data');
    if (packet.kind === 'data') out.push([packet.data[0], packet.data.subarray(1)]);
  }
  return out;
}

describe('encodeSideband', () => {
  it('splits data at the side-band-64k limit by default', async () => {
    const data = randomBytes(SIDEBAND_64K_MAX * 2 + 10);
    const packets = encodeSideband(1, data);
    assert.deepEqual(packetLengths(packets), [65520, 65520, 15]);
    assert.equal(packets.subarray(0, 4).toString(), 'fff0');
    const decoded = await decode(packets);
    assert.ok(decoded.every(([channel]) => channel === 1));
    assert.ok(Buffer.concat(decoded.map(([, payload]) => payload)).equals(data));
  });

  it('splits at a smaller limit (side-band without 64k), on any channel', async () => {
    const packets = encodeSideband(2, Buffer.from('Counting objects: 100% (3/3), done.\n'), 10);
    const decoded = await decode(packets);
    assert.deepEqual(
      decoded.map(([channel, payload]) => [channel, payload.length]),
      [
        [2, 10],
        [2, 10],
        [2, 10],
        [2, 6],
      ],
    );
    assert.equal(Buffer.concat(decoded.map(([, p]) => p)).toString(), 'Counting objects: 100% (3/3), done.\n');
    assert.deepEqual(encodeSideband(3, Buffer.from('x')), Buffer.from('0006\x03x', 'latin1'));
  });

  it('frames pieces that follow one another as it frames them joined, packets spanning pieces', () => {
    const data = randomBytes(SIDEBAND_64K_MAX * 3 + 123);
    const cuts = [0, 0, 7, 65515, 65516, 100000, 100000, 196000, data.length];
    const pieces = cuts.slice(1).map((end, i) => data.subarray(cuts[i], end));
    for (const maxPayload of [SIDEBAND_64K_MAX, 995, 3]) {
      assert.ok(encodeSideband(1, pieces, maxPayload).equals(encodeSideband(1, data, maxPayload)), `at ${maxPayload}`);
    }
    assert.equal(encodeSideband(1, [new Uint8Array(0), new Uint8Array(0)]).length, 0);
  });

  it('gives no packet for no data', () => {
    assert.equal(encodeSideband(1, new Uint8Array(0)).length, 0);
  });

  it('refuses limits and channels that are not side-band', () => {
    assert.throws(() => encodeSideband(1, Buffer.from('x'), SIDEBAND_64K_MAX + 1), RangeError);
    assert.throws(() => encodeSideband(1, Buffer.from('x'), 0), RangeError);
    assert.throws(() => encodeSideband(4 as 1, Buffer.from('x')), RangeError);
  });

  it("is demultiplexed by git's own side-band reader", (t) => {
    // `git archive --remote` reads an ACK, a flush, then side-band until a flush: a stand-in
    // upload-archive program replays what we framed to it.
    const dir = tempDir(t, 'sideband');
    const data = randomBytes(200_000);
    const reply = Buffer.concat([
      encodePktLine('ACK\n'),
      FLUSH_PKT,
      encodeSideband(2, Buffer.from('Counting objects: 1\n')),
      encodeSideband(1, data),
      encodeSideband(1, data.subarray(0, 1000), 7),
      FLUSH_PKT,
    ]);
    writeFileSync(join(dir, 'reply'), reply);
    writeFileSync(join(dir, 'fake-upload-archive'), `#!/bin/sh\ncat '${join(dir, 'reply')}'\n`, { mode: 0o755 });
    git(dir, ['init', '-q', join(dir, 'repo')]);
    const archive = gitStatus(join(dir, 'repo'), ['archive', '--remote=.', `--exec=${join(dir, 'fake-upload-archive')}`, 'HEAD']);
    assert.equal(archive.status, 0, archive.stderr);
    assert.ok(archive.stdoutBytes.equals(Buffer.concat([data, data.subarray(0, 1000)])));
    assert.match(archive.stderr, /remote: Counting objects: 1/);
  });
});
