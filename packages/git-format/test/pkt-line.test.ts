import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import {
  DELIM_PKT,
  FLUSH_PKT,
  MAX_PKT_LENGTH,
  PktLineError,
  PktLineReader,
  RESPONSE_END_PKT,
  encodePktLine,
  encodePktLines,
  type Packet,
} from '../src/pkt-line.js';
import { git, gitStatus, gitText } from '@gitfleet/test-support/git';
import { buildRichRepository } from '@gitfleet/test-support/histories';
import { tempDir } from '@gitfleet/test-support/temp-dir';

async function* fromChunks(chunks: Buffer[]): AsyncIterable<Buffer> {
  for (const chunk of chunks) yield chunk;
}

/** All packets, then everything rest() yields. */
async function readAll(reader: PktLineReader): Promise<{ packets: Packet[]; rest: Buffer }> {
  const packets: Packet[] = [];
  for (let packet = await reader.read(); packet; packet = await reader.read()) {
    packets.push(packet);
    if (packet.kind === 'flush' && packets.filter((p) => p.kind === 'flush').length === 2) break;
  }
  const rest: Buffer[] = [];
  for await (const chunk of reader.rest()) rest.push(chunk);
  return { packets, rest: Buffer.concat(rest) };
}

/** The stream split at the given offsets, with empty chunks thrown in. */
function split(stream: Buffer, cuts: number[]): Buffer[] {
  const chunks: Buffer[] = [Buffer.alloc(0)];
  let start = 0;
  for (const cut of [...cuts, stream.length]) {
    chunks.push(stream.subarray(start, cut), Buffer.alloc(0));
    start = cut;
  }
  return chunks;
}

describe('encodePktLine', () => {
  it('prefixes the payload with its length in four hex digits', () => {
    assert.equal(encodePktLine('hello\n').toString(), '000ahello\n');
    assert.equal(encodePktLine('').toString(), '0004');
    assert.equal(encodePktLine(Buffer.from([0, 255])).toString('hex'), '303030360' + '0ff');
    assert.equal(encodePktLine('é').toString('hex'), Buffer.from('0006é').toString('hex'));
    assert.equal(
      encodePktLine(Buffer.alloc(MAX_PKT_LENGTH - 4))
        .subarray(0, 4)
        .toString(),
      'fff0',
    );
  });

  it('refuses payloads that do not fit one packet', () => {
    assert.throws(() => encodePktLine(Buffer.alloc(MAX_PKT_LENGTH - 3)), PktLineError);
  });

  it('has the special packets', () => {
    assert.deepEqual([FLUSH_PKT, DELIM_PKT, RESPONSE_END_PKT].map(String), ['0000', '0001', '0002']);
  });
});

describe('encodePktLines', () => {
  it('is the pkt-lines of every payload, one after another', () => {
    const payloads = ['hello\n', '', 'é ref\0caps\n', 'x'.repeat(MAX_PKT_LENGTH - 4)];
    assert.deepEqual(encodePktLines(payloads), Buffer.concat(payloads.map((payload) => encodePktLine(payload))));
    assert.equal(encodePktLines([]).length, 0);
  });

  it('refuses a payload that does not fit one packet, whichever it is', () => {
    assert.throws(() => encodePktLines(['ok\n', 'é'.repeat((MAX_PKT_LENGTH - 4) / 2 + 1)]), PktLineError);
  });
});

describe('PktLineReader', () => {
  const packets: Array<Buffer | 'flush' | 'delim' | 'response-end'> = [
    Buffer.from('first line\n'),
    Buffer.alloc(0),
    'delim',
    Buffer.from('x'),
    'response-end',
    Buffer.alloc(MAX_PKT_LENGTH - 4, 0x61),
    'flush',
    Buffer.from([0, 1, 2, 0x0a]),
    'flush',
  ];
  const special = { flush: FLUSH_PKT, delim: DELIM_PKT, 'response-end': RESPONSE_END_PKT };
  const trailer = Buffer.from('PACK and whatever follows, untouched: 0000 zzzz');
  const stream = Buffer.concat([...packets.map((p) => (typeof p === 'string' ? special[p] : encodePktLine(p))), trailer]);
  const expected: Packet[] = packets.map((p) => (typeof p === 'string' ? { kind: p } : { kind: 'data', data: p }));

  it('reads packets and hands over the rest whatever the chunking', async () => {
    // Every cut point around the small packets, and cuts inside the big one.
    const cutPoints = new Set<number>();
    for (let i = 0; i <= 40; i++) cutPoints.add(i);
    for (let i = stream.length - 60; i <= stream.length; i++) cutPoints.add(i);
    for (const i of [100, 4096, 65000, 65535]) cutPoints.add(i);
    for (const cut of cutPoints) {
      const result = await readAll(new PktLineReader(fromChunks(split(stream, [cut]))));
      assert.deepEqual(result.packets, expected, `cut at ${cut}`);
      assert.ok(result.rest.equals(trailer), `rest after cut at ${cut}`);
    }
  });

  it('reads a stream that arrives one byte at a time', async () => {
    const cuts = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    const result = await readAll(new PktLineReader(fromChunks(split(stream, cuts))));
    assert.deepEqual(result.packets, expected);
    assert.ok(result.rest.equals(trailer));
  });

  it('reads from a Readable, and from chunks that are strings or plain Uint8Arrays', async () => {
    const passThrough = new PassThrough();
    passThrough.end(stream);
    assert.deepEqual((await readAll(new PktLineReader(passThrough))).packets, expected);
    const mixed = Readable.from([new Uint8Array(stream.subarray(0, 7)), stream.subarray(7, 15).toString('latin1'), stream.subarray(15)], {
      objectMode: true,
    });
    const result = await readAll(new PktLineReader(mixed));
    assert.equal(result.packets.length, expected.length);
    assert.deepEqual(result.packets[0], expected[0]);
  });

  it('ends cleanly at a packet boundary and refuses a stream cut inside a packet', async () => {
    const small = Buffer.concat([encodePktLine('abc'), FLUSH_PKT, encodePktLine('defgh')]);
    const boundaries = new Set([0, 7, 11, 20]);
    for (let end = 0; end <= small.length; end++) {
      for (const chunking of [[], Array.from({ length: end }, (_, i) => i)]) {
        const reader = new PktLineReader(
          fromChunks(
            split(
              small.subarray(0, end),
              chunking.filter((c) => c > 0 && c < end),
            ),
          ),
        );
        const read = async () => {
          while (await reader.read());
        };
        if (boundaries.has(end)) {
          await read();
        } else {
          const offset = end < 7 ? 0 : end < 11 ? 7 : 11;
          await assert.rejects(read, (error: Error) => {
            assert.ok(error instanceof PktLineError);
            assert.match(error.message, new RegExp(`^truncated pkt-line.* at byte offset ${offset}: `));
            return true;
          });
        }
      }
    }
  });

  it('refuses malformed length prefixes, saying which and where', async () => {
    const good = encodePktLine('ok\n');
    const bad: Array<[string, RegExp]> = [
      ['00zz', /bad pkt-line length prefix "00zz" at byte offset 7: not 4 hex digits/],
      ['-001', /bad pkt-line length prefix "-001" at byte offset 7/],
      ['0003', /bad pkt-line length 0003 at byte offset 7/],
      ['fff1', /bad pkt-line length 65521 at byte offset 7: larger than the maximum 65520/],
      ['ffff', /bad pkt-line length 65535 at byte offset 7/],
      ['\x00\x01ab', /bad pkt-line length prefix "\\x00\\x01ab" at byte offset 7/],
    ];
    for (const [prefix, message] of bad) {
      const input = Buffer.concat([good, Buffer.from(prefix, 'latin1'), Buffer.alloc(70000, 0x61)]);
      for (let cut = 0; cut <= 12; cut++) {
        const reader = new PktLineReader(fromChunks(split(input, [cut])));
        assert.deepEqual(await reader.read(), { kind: 'data', data: Buffer.from('ok\n') });
        await assert.rejects(reader.read(), (error: Error) => error instanceof PktLineError && message.test(error.message));
      }
    }
  });

  it('accepts upper-case hex, as git does', async () => {
    const reader = new PktLineReader(fromChunks([Buffer.from('000Aabcdef')]));
    assert.deepEqual(await reader.read(), { kind: 'data', data: Buffer.from('abcdef') });
  });

  it('streams the rest without reading ahead of its consumer', async () => {
    let pulled = 0;
    const chunkSize = 1 << 16;
    async function* source(): AsyncIterable<Buffer> {
      yield Buffer.concat([encodePktLine('command\n'), FLUSH_PKT, Buffer.from('PACK')]);
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield Buffer.alloc(chunkSize, i % 256);
      }
    }
    const reader = new PktLineReader(source());
    assert.equal((await reader.read())?.kind, 'data');
    assert.equal((await reader.read())?.kind, 'flush');
    let seen = 0;
    for await (const chunk of reader.rest()) {
      if (seen === 0) assert.equal(chunk.toString(), 'PACK');
      else assert.equal(chunk[0], (seen - 1) % 256);
      // The reader holds at most the chunk it is handing over.
      assert.ok(pulled <= seen, `pulled ${pulled} chunks when ${seen} were consumed`);
      seen++;
    }
    assert.equal(seen, 1001);
    await assert.rejects(reader.read(), /used after rest\(\)/);
    assert.throws(() => reader.rest(), /already taken/);
  });

  it('reads a large stream of small packets split at odd places in linear time', async () => {
    const lines = Array.from({ length: 100_000 }, (_, i) => encodePktLine(`line ${i}\n`));
    const big = Buffer.concat(lines);
    const chunks: Buffer[] = [];
    for (let start = 0; start < big.length; start += 997) chunks.push(big.subarray(start, start + 997));
    const reader = new PktLineReader(fromChunks(chunks));
    const read: Buffer[] = [];
    for (let packet = await reader.read(); packet; packet = await reader.read()) {
      assert.equal(packet.kind, 'data');
      read.push(encodePktLine(packet.data));
    }
    assert.equal(read.length, 100_000);
    assert.ok(Buffer.concat(read).equals(big));
  });
});

describe('pkt-lines with real git', () => {
  const dir = tempDir({ after }, 'pkt-line');
  let repo: string;
  before(() => {
    repo = buildRichRepository(dir);
  });

  it("reads upload-pack's advertisement", async () => {
    const advertisement = git(repo, ['upload-pack', '--stateless-rpc', '--advertise-refs', '.']);
    const reader = new PktLineReader(fromChunks([advertisement]));
    const lines: string[] = [];
    for (let packet = await reader.read(); packet; packet = await reader.read()) {
      if (packet.kind === 'data') lines.push(packet.data.toString());
    }
    const refs = lines.map((line) => line.split('\0')[0].trimEnd());
    const expected = gitText(repo, ['show-ref', '--head', '-d']).split('\n');
    assert.deepEqual(refs.sort(), expected.sort());
  });

  it('writes a request that git upload-pack answers, and hands over the pack that follows', async () => {
    const head = gitText(repo, ['rev-parse', 'HEAD']);
    const request = Buffer.concat([encodePktLine(`want ${head} ofs-delta\n`), FLUSH_PKT, encodePktLine('done\n')]);
    const answer = gitStatus(repo, ['upload-pack', '--stateless-rpc', '.'], { input: request });
    assert.equal(answer.status, 0, answer.stderr);
    const reader = new PktLineReader(fromChunks(split(answer.stdoutBytes, [3, 9, 17])));
    assert.deepEqual(await reader.read(), { kind: 'data', data: Buffer.from('NAK\n') });
    const pack: Buffer[] = [];
    for await (const chunk of reader.rest()) pack.push(chunk);
    const verified = gitStatus(repo, ['index-pack', '--stdin', '--strict'], { input: Buffer.concat(pack) });
    assert.equal(verified.status, 0, verified.stderr);
  });
});
