// Requests are parsed as streams and bounded by count and bytes: a flood of packets is
// refused as soon as it becomes one, without the rest of it being read or kept.
import assert from 'node:assert/strict';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { maxEventLoopGap } from '@gitfleet/test-support/event-loop';
import { git } from '@gitfleet/test-support/git';
import { buildSourceRepo } from '@gitfleet/test-support/histories';
import { ProtocolError, receivePack, uploadPack, type ProtocolLimits, type ProtocolVersion } from '../src/index.js';
import { collect, parseResponse as parsePush, pushRequest, requestStream } from '@gitfleet/test-support/receive-pack-wire';
import { createRepository } from '@gitfleet/test-support/stores';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { backends, commitChain, initSource, packRevs } from './receive-pack-fixtures.js';
import { gitUploadPack, loadRepository, parseResponse, request, type Line } from './upload-pack-helpers.js';

const MIB = 1024 * 1024;
const LIMITS: ProtocolLimits = {
  maxRequestBytes: 64 * MIB,
  maxRequestPackets: 1000,
  maxPackBytes: 64 * MIB,
  maxObjectSize: 16 * MIB,
  maxPushCommandBytes: 64 * 1024,
  maxPushCommands: 50,
  maxPushOptions: 5,
  maxRefNameBytes: 256,
  // 50 refs of three levels fit; two names 80 directories deep do not.
  maxPushRefLevels: 160,
};

/** `total` bytes made of `unit` repeated, produced lazily in 64 KiB chunks; counts the chunks taken. */
function flood(unit: Buffer, total: number, head: Buffer = Buffer.alloc(0)): { stream: Readable; pulled(): number } {
  const chunk = Buffer.concat(Array.from({ length: Math.floor(65536 / unit.length) }, () => unit));
  let pulled = 0;
  const stream = Readable.from(
    (function* () {
      pulled++;
      yield head;
      for (let sent = 0; sent < total; sent += chunk.length) {
        pulled++;
        yield chunk;
      }
    })(),
    { objectMode: false },
  );
  return { stream, pulled: () => pulled };
}

async function refused(promise: Promise<unknown>, status: number, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ProtocolError, String(error));
    assert.equal(error.status, status, error.message);
    assert.match(error.message, message);
    return true;
  });
}

describe('upload-pack reads its request one packet at a time', () => {
  const setup = async (t: { after(fn: () => void): void }) => {
    const dir = tempDir(t, 'bounds');
    const source = buildSourceRepo(dir, 12);
    return { repo: await loadRepository(source, dir), main: git(source, ['rev-parse', 'main']).toString().trim() };
  };

  it('refuses a 64 MiB bomb of empty packets at its first packet, reading almost none of it', async (t) => {
    const { repo } = await setup(t);
    for (const version of [0, 2] as ProtocolVersion[]) {
      const bomb = flood(Buffer.from('0004'), 64 * MIB);
      const heapBefore = process.memoryUsage().heapUsed;
      await refused(uploadPack(repo, bomb.stream, { version, limits: LIMITS }), 400, /expected/);
      // Before: the whole 64 MiB became 16.7 M packet objects (GBs of heap) before parsing began.
      assert.ok(bomb.pulled() <= 2, `v${version}: ${bomb.pulled()} chunks of 64 KiB were read`);
      assert.ok(
        process.memoryUsage().heapUsed - heapBefore < 32 * MIB,
        `v${version}: heap grew by ${process.memoryUsage().heapUsed - heapBefore}`,
      );
    }
  });

  it('refuses more packets than the limit with 413 as soon as the limit is passed', async (t) => {
    const { repo, main } = await setup(t);
    const floods: Array<[ProtocolVersion, Buffer, Buffer]> = [
      [0, request([`want ${main} multi_ack_detailed`, 'flush']), request([`have ${main}`])],
      [2, request(['command=fetch', 'delim', `want ${main}`]), request(['thin-pack'])],
      [2, request(['command=ls-refs', 'delim']), request(['ref-prefix refs/heads/'])],
    ];
    for (const [version, head, unit] of floods) {
      const body = flood(unit, 16 * MIB, head);
      await refused(uploadPack(repo, body.stream, { version, limits: LIMITS }), 413, /more than 1000 packets/);
      assert.ok(body.pulled() <= 3, `${body.pulled()} chunks of 64 KiB were read`);
    }
  });

  it('counts bytes too: a request over the byte limit is refused with 413', async (t) => {
    const { repo, main } = await setup(t);
    const body = flood(request([`have ${main}`]), 16 * MIB, request([`want ${main} multi_ack_detailed`, 'flush']));
    const limits = { ...LIMITS, maxRequestBytes: 20_000, maxRequestPackets: 1_000_000 };
    await refused(uploadPack(repo, body.stream, { version: 0, limits }), 413, /larger than 20000 bytes/);
    assert.ok(body.pulled() <= 2);
  });

  it('lets other work run while it checks a long list of haves', async (t) => {
    const { repo, main } = await setup(t);
    const haves = Array.from({ length: 20_000 }, () => `have ${main}`);
    const body = request([`want ${main} multi_ack_detailed`, 'flush', ...haves, 'flush']);
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    try {
      await collect(await uploadPack(repo, Readable.from([body]), { version: 0, limits: { ...LIMITS, maxRequestPackets: 30_000 } }));
    } finally {
      clearInterval(ticker);
    }
    assert.ok(turns >= 10, `the event loop turned ${turns} times`);
  });

  it('answers one v2 command per request, as git upload-pack --stateless-rpc does', async (t) => {
    const { repo } = await setup(t);
    const twice = request(['command=ls-refs', 'delim', 'ref-prefix refs/heads/main', 'flush', 'command=ls-refs', 'delim', 'flush']);
    const response = await uploadPack(repo, Readable.from([twice]), { version: 2, limits: LIMITS });
    const lines = parseResponse(await collect(response)).lines;
    assert.equal(lines.filter((line) => line === 'flush').length, 1, lines.join(' | '));
    assert.equal(lines.length, 2);
  });
});

describe('upload-pack work grows with the request and the refs, never with their product', () => {
  const TAGS = 4000;
  const tag = (i: number) => `refs/tags/t${String(i).padStart(6, '0')}`;
  let fixture: Promise<{ repo: Repository; source: string; main: string; old: string }> | undefined;
  const scratch = tempDir({ after }, 'up-many-refs');
  /** A repository with 4,000 tags (on main~3), built once for these tests. */
  const setup = () =>
    (fixture ??= (async () => {
      const source = buildSourceRepo(scratch, 12);
      const old = git(source, ['rev-parse', 'main~3']).toString().trim();
      git(source, ['update-ref', '--stdin'], Array.from({ length: TAGS }, (_, i) => `create ${tag(i)} ${old}\n`).join(''));
      return { repo: await loadRepository(source, scratch), source, main: git(source, ['rev-parse', 'main']).toString().trim(), old };
    })());
  const limits = { ...LIMITS, maxRequestBytes: 16 * MIB, maxRequestPackets: 300_000 };
  const answer = async (repo: Repository, body: Buffer): Promise<{ bytes: Buffer; gap: number }> => {
    let bytes: Buffer | undefined;
    const gap = await maxEventLoopGap(async () => {
      bytes = await collect(await uploadPack(repo, Readable.from([body]), { version: 2, limits }));
    });
    return { bytes: bytes!, gap };
  };

  it('resolves 200,000 want-ref lines of one tag once each, the event loop turning', async () => {
    const { repo, old } = await setup();
    const wantRefs = Array.from({ length: 200_000 }, (_, i) => `want-ref ${i % 2 ? tag(TAGS - 1) : 'refs/heads/main'}`);
    // Before: a pass over every ref per line held the event loop for seconds.
    const { bytes, gap } = await answer(repo, request(['command=fetch', 'delim', ...wantRefs, 'done', 'flush']));
    assert.ok(gap < 250, `the event loop waited ${gap.toFixed(0)} ms`);
    const { lines, pack } = parseResponse(bytes);
    const main = (await repo.refs.get('refs/heads/main'))!;
    assert.deepEqual(lines.slice(0, lines.indexOf('packfile')), [
      'wanted-refs',
      `${main} refs/heads/main`,
      `${old} ${tag(TAGS - 1)}`,
      'delim',
    ]);
    assert.equal(pack.subarray(0, 4).toString(), 'PACK');
  });

  it('filters by 60,000 ref prefixes as git does, the event loop turning', async () => {
    const { repo, source } = await setup();
    const prefixes = [
      ...Array.from({ length: 59_990 }, (_, i) => `ref-prefix refs/tags/t00000x${i}`),
      'ref-prefix refs/tags/t0001',
      'ref-prefix refs/tags/t00012',
      'ref-prefix refs/tags/t0001',
      'ref-prefix refs/tags/t003999',
      'ref-prefix refs/heads/',
      'ref-prefix refs/heads/ma',
      'ref-prefix HEAD',
      'ref-prefix refs/tags/v',
      'ref-prefix refs/tags/t000999x',
      'ref-prefix z',
    ];
    const body = request(['command=ls-refs', 'delim', 'peel', 'symrefs', ...prefixes, 'flush']);
    // Before: each ref was compared with every prefix (seconds for these 4,000 refs).
    const { bytes, gap } = await answer(repo, body);
    assert.ok(gap < 250, `the event loop waited ${gap.toFixed(0)} ms`);
    const ours = parseResponse(bytes).lines;
    // HEAD, 2 branches, t000100…t000199, t003999, v1.0 and v1.0-signed, the flush.
    assert.equal(ours.length, 1 + 2 + 100 + 1 + 2 + 1, ours.slice(0, 10).join(' | '));
    assert.deepEqual(ours, parseResponse(gitUploadPack(source, body, 2)).lines);
  });

  it('v0: tells whether to give up once per common have, not once per unknown have', async (t) => {
    const dir = tempDir(t, 'long-history');
    const source = path.join(dir, 'long.git');
    git(dir, ['init', '--quiet', '--bare', '--initial-branch=main', source]);
    // 3,000 commits on main, and an older unrelated root: a have of it reaches no want.
    const commit = (ref: string, mark: number, from: number | undefined, when: number) =>
      `commit ${ref}\nmark :${mark}\ncommitter C <c@example.com> ${when} +0000\ndata <<.\n${mark}\n.\n${from ? `from :${from}\n` : ''}\n`;
    const history = Array.from({ length: 3000 }, (_, i) => commit('refs/heads/main', i + 1, i || undefined, 1_700_000_000 + i * 60));
    git(source, ['fast-import', '--quiet'], history.join('') + commit('refs/heads/side', 3001, undefined, 1_699_999_000));
    const repo = await loadRepository(source, dir);
    const [main, side] = ['main', 'side'].map((ref) => git(source, ['rev-parse', ref]).toString().trim());
    const unknown = Array.from({ length: 5_000 }, (_, i) => `have ${i.toString(16).padStart(40, 'f')}`);
    const body = request([`want ${main} multi_ack_detailed side-band-64k`, 'flush', `have ${side}`, ...unknown, 'flush']);
    let bytes: Buffer | undefined;
    // Before: each unknown have walked main's 3,000 commits again (seconds between turns).
    const gap = await maxEventLoopGap(async () => {
      bytes = await collect(
        await uploadPack(repo, Readable.from([body]), { version: 0, limits: { ...LIMITS, maxRequestPackets: 10_000 } }),
      );
    });
    assert.ok(gap < 250, `the event loop waited ${gap.toFixed(0)} ms`);
    assert.deepEqual(parseResponse(bytes!).lines, [`ACK ${side} common`, 'NAK']);
    assert.deepEqual(parseResponse(bytes!).lines, parseResponse(gitUploadPack(source, body, 0)).lines);
  });

  it('resolves 100,000 deepen-not lines of one tag once, as git does, the event loop turning', async () => {
    const { repo, source, main } = await setup();
    const body = request([
      'command=fetch',
      'delim',
      `want ${main}`,
      ...Array.from({ length: 100_000 }, () => `deepen-not t00${TAGS - 1}`),
      'done',
      'flush',
    ]);
    // Before: every deepen-not line built a map of every ref.
    const { bytes, gap } = await answer(repo, body);
    assert.ok(gap < 250, `the event loop waited ${gap.toFixed(0)} ms`);
    const shallowInfo = (lines: Line[]) => lines.slice(0, lines.indexOf('packfile'));
    const ours = shallowInfo(parseResponse(bytes).lines);
    assert.match(String(ours[1]), /^shallow [0-9a-f]{40}$/);
    assert.deepEqual(ours, shallowInfo(parseResponse(gitUploadPack(source, body, 2)).lines));
  });
});

for (const backend of backends) {
  describe(`receive-pack bounds its command list on ${backend.name}`, () => {
    async function setup(t: { after(fn: () => void | Promise<void>): void }) {
      const dir = tempDir(t, 'bounds');
      const repo = await createRepository(await backend.open(t));
      const source = initSource(dir);
      const [a] = commitChain(source, 1);
      return { repo, source, a, spoolDir: `${dir}/spool`, pack: packRevs(source, [a]) };
    }
    const create = (ref: string, oid: string) => ({ old: ZERO_OID, new: oid, ref });

    it('refuses too many commands, shallow lines, push options, ref name levels or bytes before reading the pack, changing nothing', async (t) => {
      const { repo, a, spoolDir, pack } = await setup(t);
      const many = (n: number) => Array.from({ length: n }, (_, i) => create(`refs/heads/b${i}`, a));
      for (const withSideband of [true, false]) {
        const capabilities = ['report-status', ...(withSideband ? ['side-band-64k'] : []), 'push-options'];
        const cases: Array<[string, Buffer, RegExp]> = [
          ['51 commands', pushRequest(many(51), { pack, capabilities }), /more than 50 ref updates/],
          [
            '51 shallow lines',
            pushRequest(many(1), { pack, capabilities, shallow: Array.from({ length: 51 }, () => a) }),
            /more than 50 shallow lines/,
          ],
          [
            '6 push options',
            pushRequest(many(1), { pack, capabilities, pushOptions: ['1', '2', '3', '4', '5', '6'] }),
            /more than 5 push options/,
          ],
          [
            '166 ref name levels',
            pushRequest([create(`refs/heads/${'d/'.repeat(80)}x`, a), create(`refs/heads/${'e/'.repeat(80)}x`, a)], { pack, capabilities }),
            /more than 160 ref name levels/,
          ],
          [
            '65 KiB of commands',
            pushRequest([create(`refs/heads/${'x'.repeat(60_000)}`, a), create(`refs/heads/${'y'.repeat(10_000)}`, a)], {
              pack,
              capabilities,
            }),
            /exceed 65536 bytes/,
          ],
        ];
        for (const [what, request, message] of cases) {
          // The pack follows the commands: it must never be read.
          let packRead = false;
          const commandBytes = request.length - pack.length;
          const stream = Readable.from(
            (async function* () {
              yield* requestStream(request.subarray(0, commandBytes), 4096);
              packRead = true;
              yield request.subarray(commandBytes);
            })(),
            { objectMode: false },
          );
          const answer = receivePack(repo, stream, { limits: LIMITS, spoolDir });
          // With side-band (git asks for it) the client is told in band, shown as "remote error: …"; else 413.
          if (!withSideband || what === '51 shallow lines') await refused(answer, 413, message);
          else assert.match(parsePush(await collect(await answer), true).fatal, message, what);
          assert.equal(packRead, false, `${what}: the pack was read`);
        }
      }
      assert.deepEqual(await repo.refs.list(), []);
    });

    it('accepts exactly the limits', async (t) => {
      const { repo, a, spoolDir, pack } = await setup(t);
      const commands = Array.from({ length: 50 }, (_, i) => create(`refs/heads/b${i}`, a));
      const body = pushRequest(commands, {
        pack,
        capabilities: ['report-status', 'side-band-64k', 'push-options'],
        pushOptions: ['1', '2', '3', '4', '5'],
      });
      const report = parsePush(await collect(await receivePack(repo, requestStream(body), { limits: LIMITS, spoolDir })), true).report;
      assert.equal(report.filter((line) => line.startsWith('ok ')).length, 50);
    });

    it('refuses a ref name over the length limit for that ref only, or the whole push when atomic', async (t) => {
      const { repo, a, spoolDir, pack } = await setup(t);
      const long = `refs/heads/${'l'.repeat(250)}`;
      const push = async (capabilities: string[]) =>
        parsePush(
          await collect(
            await receivePack(
              repo,
              requestStream(pushRequest([create(long, a), create(`refs/heads/ok-${capabilities.length}`, a)], { pack, capabilities })),
              { limits: LIMITS, spoolDir },
            ),
          ),
          true,
        );
      const atomic = await push(['report-status', 'side-band-64k', 'atomic']);
      assert.deepEqual(atomic.report, ['unpack ok', `ng ${long} ref name too long`, 'ng refs/heads/ok-3 atomic push failure']);
      assert.deepEqual(await repo.refs.list(), []);
      const each = await push(['report-status', 'side-band-64k']);
      assert.deepEqual(each.report, ['unpack ok', `ng ${long} ref name too long`, 'ok refs/heads/ok-2']);
      assert.match(each.progress, /longer than the 256 allowed/);
      assert.deepEqual(
        (await repo.refs.list()).map((ref) => ref.name),
        ['refs/heads/ok-2'],
      );
      // 256 bytes exactly is allowed.
      const fits = `refs/heads/${'f'.repeat(256 - 'refs/heads/'.length)}`;
      const ok = parsePush(
        await collect(await receivePack(repo, requestStream(pushRequest([create(fits, a)], { pack })), { limits: LIMITS, spoolDir })),
        true,
      );
      assert.deepEqual(ok.report, ['unpack ok', `ok ${fits}`]);
    });
  });
}

for (const backend of backends) {
  describe(`receive-pack refuses refs git cannot store together, on ${backend.name}`, () => {
    const create = (ref: string, oid: string) => ({ old: ZERO_OID, new: oid, ref });

    it('refuses a ref beside one whose name is its directory: per ref, or the whole push when atomic', async (t) => {
      const dir = tempDir(t, 'df');
      const repo = await createRepository(await backend.open(t));
      const source = initSource(dir);
      const [a] = commitChain(source, 1);
      const pack = packRevs(source, [a]);
      const spoolDir = `${dir}/spool`;
      const push = async (commands: Array<ReturnType<typeof create>>, capabilities = ['report-status', 'side-band-64k']) =>
        parsePush(
          await collect(
            await receivePack(repo, requestStream(pushRequest(commands, { pack, capabilities })), { limits: LIMITS, spoolDir }),
          ),
          true,
        );

      assert.deepEqual((await push([create('refs/heads/df', a)])).report, ['unpack ok', 'ok refs/heads/df']);
      const atomic = await push(
        [create('refs/heads/df/sub', a), create('refs/heads/fine', a)],
        ['report-status', 'side-band-64k', 'atomic'],
      );
      assert.deepEqual(atomic.report, [
        'unpack ok',
        'ng refs/heads/df/sub atomic transaction failed',
        'ng refs/heads/fine atomic transaction failed',
      ]);
      assert.match(
        atomic.progress,
        /error: cannot lock ref 'refs\/heads\/df\/sub': 'refs\/heads\/df' exists; cannot create 'refs\/heads\/df\/sub'/,
      );
      assert.deepEqual(
        (await repo.refs.list()).map((ref) => ref.name),
        ['refs/heads/df'],
      );

      const each = await push([
        create('refs/heads/df/sub', a),
        create('refs/heads/fine', a),
        create('refs/heads/x', a),
        create('refs/heads/x/y', a),
      ]);
      assert.deepEqual(each.report, [
        'unpack ok',
        'ng refs/heads/df/sub failed to update ref',
        'ok refs/heads/fine',
        'ok refs/heads/x',
        'ng refs/heads/x/y failed to update ref',
      ]);
      assert.match(each.progress, /'refs\/heads\/x' exists; cannot create 'refs\/heads\/x\/y'/);
      assert.deepEqual(
        (await repo.refs.list()).map((ref) => ref.name),
        ['refs/heads/df', 'refs/heads/fine', 'refs/heads/x'],
      );

      const sameTime = await push([create('refs/heads/p', a), create('refs/heads/p/q', a)], ['report-status', 'side-band-64k', 'atomic']);
      assert.deepEqual(sameTime.report, [
        'unpack ok',
        'ng refs/heads/p atomic transaction failed',
        'ng refs/heads/p/q atomic transaction failed',
      ]);
      assert.match(sameTime.progress, /cannot process 'refs\/heads\/p\/q' and 'refs\/heads\/p' at the same time/);
    });
  });
}
