import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import {
  AGENT,
  ProtocolError,
  advertiseReceivePack,
  receivePack,
  type AppliedRefUpdate,
  type PushSummary,
  type ReceivePackOptions,
} from '../src/index.js';
import { gitText } from '@gitfleet/test-support/git';
import { catFile } from '@gitfleet/test-support/packs';
import {
  collect,
  parseResponse,
  pkt,
  FLUSH,
  pushRequest,
  readPackets,
  requestStream,
  type ParsedResponse,
  type PushCommandLine,
} from '@gitfleet/test-support/receive-pack-wire';
import { createRepository } from '@gitfleet/test-support/stores';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import {
  backends,
  commitChain,
  initSource,
  listObjects,
  packObjects,
  packRevs,
  writeBlob,
  writeCommit,
  writeTree,
  TEST_LIMITS,
} from './receive-pack-fixtures.js';

type TestContext = { after(fn: () => void | Promise<void>): void };

interface Harness {
  repo: Repository;
  source: string;
  spoolDir: string;
  dir: string;
  /** Runs one receive-pack request and parses the response. */
  run(body: Buffer, options?: Partial<ReceivePackOptions> & { sideband?: boolean }): Promise<ParsedResponse>;
  /** Like run, then checks that the spool directory was left empty. */
  push(body: Buffer, options?: Partial<ReceivePackOptions> & { sideband?: boolean }): Promise<ParsedResponse>;
  assertSpoolEmpty(): void;
  refs(): Promise<Record<string, string>>;
  packCount(): Promise<number>;
}

async function harness(t: TestContext, backend: (typeof backends)[number]): Promise<Harness> {
  const dir = tempDir(t, 'test');
  const repo = await createRepository(await backend.open(t));
  const spoolDir = path.join(dir, 'spool');
  const h: Harness = {
    repo,
    dir,
    spoolDir,
    source: initSource(dir),
    async run(body, options = {}) {
      const response = await receivePack(repo, requestStream(body), { limits: TEST_LIMITS, spoolDir, ...options });
      return parseResponse(await collect(response), options.sideband ?? true);
    },
    async push(body, options = {}) {
      const parsed = await h.run(body, options);
      h.assertSpoolEmpty();
      return parsed;
    },
    assertSpoolEmpty() {
      // Whatever happened, nothing is left in the spool directory.
      assert.deepEqual(existsSync(spoolDir) ? readdirSync(spoolDir) : [], []);
    },
    async refs() {
      return Object.fromEntries((await repo.refs.list()).map((r) => [r.name, r.oid]));
    },
    async packCount() {
      return (await repo.packs.list()).length;
    },
  };
  return h;
}

const create = (ref: string, oid: string): PushCommandLine => ({ old: ZERO_OID, new: oid, ref });
const update = (ref: string, from: string, to: string): PushCommandLine => ({ old: from, new: to, ref });
const remove = (ref: string, oid: string): PushCommandLine => ({ old: oid, new: ZERO_OID, ref });

/** Asserts that every object `revs` reaches reads back from the repository exactly as git has it. */
async function assertObjectsMatch(repo: Repository, source: string, revs: string[]): Promise<void> {
  const oids = listObjects(source, revs);
  const expected = catFile(source, oids);
  for (const oid of oids) {
    const object = await repo.objects.read(oid);
    assert.ok(object, `object ${oid} is readable`);
    assert.equal(object.type, expected.get(oid)!.type, `type of ${oid}`);
    assert.ok(object.data.equals(expected.get(oid)!.data), `content of ${oid}`);
  }
}

for (const backend of backends) {
  describe(`receive-pack on ${backend.name}`, () => {
    it('advertises capabilities^{} for an empty repository, then the refs in http-backend format', async (t) => {
      const h = await harness(t, backend);
      const caps = `report-status report-status-v2 delete-refs side-band-64k quiet atomic ofs-delta push-options object-format=sha1 agent=${AGENT}`;
      const empty = readPackets(Buffer.concat(await advertiseReceivePack(h.repo)));
      assert.deepEqual(empty.map(String), [`${ZERO_OID} capabilities^{}\0${caps}\n`, 'flush']);

      const [a, b] = commitChain(h.source, 2);
      await h.push(pushRequest([create('refs/heads/main', b), create('refs/tags/first', a)], { pack: packRevs(h.source, [b]) }));
      const refs = readPackets(Buffer.concat(await advertiseReceivePack(h.repo)));
      assert.deepEqual(refs.map(String), [`${b} refs/heads/main\0${caps}\n`, `${a} refs/tags/first\n`, 'flush']);
    });

    it('tells onReport what the push came to: the objects sent, the updates accepted and refused', async (t) => {
      const h = await harness(t, backend);
      const [a, b] = commitChain(h.source, 2);
      const summaries: PushSummary[] = [];
      const onReport = (summary: PushSummary) => summaries.push(summary);
      await h.push(pushRequest([create('refs/heads/main', b)], { pack: packRevs(h.source, [b]) }), { onReport });
      // A stale old value refuses the second update; the pack is fine.
      await h.push(pushRequest([create('refs/heads/other', a), update('refs/heads/main', a, a)], { pack: packRevs(h.source, [a]) }), {
        onReport,
      });
      assert.deepEqual(summaries, [
        { objects: listObjects(h.source, [b]).length, unpacked: true, accepted: 1, rejected: 0 },
        { objects: listObjects(h.source, [a]).length, unpacked: true, accepted: 1, rejected: 1 },
      ]);
    });

    it('stores a multi-branch history with an annotated tag, ofs- and ref-deltas, as git has it', async (t) => {
      const h = await harness(t, backend);
      const main = commitChain(h.source, 12);
      const topic = commitChain(h.source, 4, main[5], 100);
      const tag = gitText(
        h.source,
        ['mktag'],
        `object ${main[8]}\ntype commit\ntag v1\ntagger Ada <ada@example.com> 1700000000 +0100\n\nrelease\n`,
      );
      for (const ofsDelta of [true, false]) {
        const name = ofsDelta ? 'ofs' : 'ref';
        const response = await h.push(
          pushRequest(
            [
              create(`refs/heads/${name}/main`, main[11]),
              create(`refs/heads/${name}/topic`, topic[3]),
              create(`refs/tags/${name}/v1`, tag),
            ],
            {
              pack: packRevs(h.source, [main[11], topic[3], tag], { ofsDelta }),
            },
          ),
        );
        assert.deepEqual(response.report, [
          'unpack ok',
          `ok refs/heads/${name}/main`,
          `ok refs/heads/${name}/topic`,
          `ok refs/tags/${name}/v1`,
        ]);
        assert.match(response.progress, /Resolving deltas: 100% \(\d+\/\d+\), done\.\n/);
        assert.equal(response.fatal, '');
        assert.ok(response.flushed);
      }
      assert.deepEqual(await h.refs(), {
        'refs/heads/ofs/main': main[11],
        'refs/heads/ofs/topic': topic[3],
        'refs/heads/ref/main': main[11],
        'refs/heads/ref/topic': topic[3],
        'refs/tags/ofs/v1': tag,
        'refs/tags/ref/v1': tag,
      });
      await assertObjectsMatch(h.repo, h.source, [main[11], topic[3], tag]);
      const reflog = await h.repo.refs.reflog('refs/heads/ofs/main');
      assert.deepEqual(
        reflog.map((e) => [e.oldOid, e.newOid]),
        [[ZERO_OID, main[11]]],
      );
    });

    it('completes a thin pack from the repository objects', async (t) => {
      const h = await harness(t, backend);
      const first = commitChain(h.source, 3);
      await h.push(pushRequest([create('refs/heads/main', first[2])], { pack: packRevs(h.source, [first[2]]) }));
      const next = commitChain(h.source, 2, first[2], 50);
      const thin = packRevs(h.source, [next[1], `^${first[2]}`], { thin: true });
      const response = await h.push(pushRequest([update('refs/heads/main', first[2], next[1])], { pack: thin }));
      assert.deepEqual(response.report, ['unpack ok', 'ok refs/heads/main']);
      assert.match(response.progress, /Resolving deltas: 100% \(\d+\/\d+\), completed with \d+ local objects?\.\n/);
      assert.equal(await h.repo.refs.get('refs/heads/main'), next[1]);
      await assertObjectsMatch(h.repo, h.source, [next[1]]);

      // The same thin pack where its bases are unknown cannot be completed.
      const empty = await createRepository(await backend.open(t), 'empty');
      const response2 = await receivePack(empty, requestStream(pushRequest([create('refs/heads/main', next[1])], { pack: thin })), {
        limits: TEST_LIMITS,
        spoolDir: h.spoolDir,
      });
      const refused = parseResponse(await collect(response2), true);
      assert.match(refused.report[0], /^unpack .+/);
      assert.notEqual(refused.report[0], 'unpack ok');
      assert.deepEqual(await empty.refs.list(), []);
    });

    it('lets exactly one of two racing pushes to one branch win', async (t) => {
      const h = await harness(t, backend);
      const [base] = commitChain(h.source, 1);
      await h.push(pushRequest([create('refs/heads/main', base)], { pack: packRevs(h.source, [base]) }));
      const [x] = commitChain(h.source, 1, base, 10);
      const [y] = commitChain(h.source, 1, base, 20);
      const results = await Promise.all(
        [x, y].map((tip) => h.run(pushRequest([update('refs/heads/main', base, tip)], { pack: packRevs(h.source, [tip, `^${base}`]) }))),
      );
      h.assertSpoolEmpty();
      const winners = results.filter((r) => r.report[1] === 'ok refs/heads/main');
      assert.equal(winners.length, 1);
      assert.deepEqual(results.find((r) => r !== winners[0])!.report, ['unpack ok', 'ng refs/heads/main failed to update ref']);
      assert.equal(await h.repo.refs.get('refs/heads/main'), results[0] === winners[0] ? x : y);
    });

    it('accepts a non-fast-forward update when the old id matches', async (t) => {
      const h = await harness(t, backend);
      const [a] = commitChain(h.source, 1);
      const [b] = commitChain(h.source, 1, undefined, 10);
      await h.push(pushRequest([create('refs/heads/main', a)], { pack: packRevs(h.source, [a]) }));
      const response = await h.push(pushRequest([update('refs/heads/main', a, b)], { pack: packRevs(h.source, [b, `^${a}`]) }));
      assert.deepEqual(response.report, ['unpack ok', 'ok refs/heads/main']);
      assert.equal(await h.repo.refs.get('refs/heads/main'), b);
    });

    it('refuses a ref whose old id is stale and applies the others (non-atomic)', async (t) => {
      const h = await harness(t, backend);
      const [a, b] = commitChain(h.source, 2);
      await h.push(pushRequest([create('refs/heads/main', a), create('refs/heads/other', a)], { pack: packRevs(h.source, [a]) }));
      const response = await h.push(
        pushRequest([update('refs/heads/main', b, b), update('refs/heads/other', a, b), create('refs/heads/main2', a)], {
          pack: packRevs(h.source, [b, `^${a}`]),
        }),
      );
      assert.deepEqual(response.report, [
        'unpack ok',
        'ng refs/heads/main failed to update ref',
        'ok refs/heads/other',
        'ok refs/heads/main2',
      ]);
      assert.match(response.progress, /error: cannot lock ref 'refs\/heads\/main'/);
      assert.deepEqual(await h.refs(), { 'refs/heads/main': a, 'refs/heads/main2': a, 'refs/heads/other': b });
    });

    it('refuses everything of an atomic push when one ref fails, and changes nothing', async (t) => {
      const h = await harness(t, backend);
      const [a, b] = commitChain(h.source, 2);
      await h.push(pushRequest([create('refs/heads/main', a)], { pack: packRevs(h.source, [a]) }));
      const before = await h.refs();
      const capabilities = ['report-status', 'side-band-64k', 'atomic'];

      const stale = await h.push(
        pushRequest([update('refs/heads/main', b, b), create('refs/heads/new', b)], {
          capabilities,
          pack: packRevs(h.source, [b, `^${a}`]),
        }),
      );
      assert.deepEqual(stale.report, [
        'unpack ok',
        'ng refs/heads/main atomic transaction failed',
        'ng refs/heads/new atomic transaction failed',
      ]);
      // The compare-and-swap failed after the pack was stored: it stays, unreferenced.
      const packs = await h.packCount();

      const funny = await h.push(
        pushRequest([create('refs/heads/new', b), create('refs/heads/bad..name', b)], {
          capabilities,
          pack: packRevs(h.source, [b, `^${a}`]),
        }),
      );
      assert.deepEqual(funny.report, ['unpack ok', 'ng refs/heads/new atomic push failure', 'ng refs/heads/bad..name funny refname']);
      assert.deepEqual(await h.refs(), before);
      assert.equal(await h.packCount(), packs, 'a push refused before the compare-and-swap stores no pack');
    });

    it('reports a corrupt or truncated pack as an unpack error and changes nothing', async (t) => {
      const h = await harness(t, backend);
      const [a] = commitChain(h.source, 3);
      const pack = packRevs(h.source, [a]);
      const corrupt = Buffer.from(pack);
      corrupt[Math.floor(pack.length / 2)] ^= 0xff;
      const bad = [
        corrupt,
        pack.subarray(0, pack.length - 30),
        pack.subarray(0, 8),
        Buffer.alloc(0),
        Buffer.from('not a pack at all, just text'),
      ];
      for (const body of bad) {
        const response = await h.push(pushRequest([create('refs/heads/main', a)], { pack: body }));
        assert.match(response.report[0], /^unpack .+/);
        assert.notEqual(response.report[0], 'unpack ok');
        assert.deepEqual(response.report.slice(1), ['ng refs/heads/main unpacker error']);
      }
      assert.deepEqual(await h.refs(), {});
      assert.equal(await h.packCount(), 0);
    });

    it('refuses objects that fsck refuses: a bad email, a .git tree entry', async (t) => {
      const h = await harness(t, backend);
      const blob = writeBlob(h.source, 'x\n');
      const tree = writeTree(h.source, [`100644 blob ${blob}\tfile`]);
      const badEmail = gitText(
        h.source,
        ['hash-object', '-w', '-t', 'commit', '--literally', '--stdin'],
        `tree ${tree}\nauthor Ada <ada@example.com 1700000000 +0000\ncommitter Ada <ada@example.com> 1700000000 +0000\n\nbad\n`,
      );
      const dotGit = writeTree(h.source, [`040000 tree ${tree}\t.git`]);
      const dotGitCommit = writeCommit(h.source, dotGit, [], 'hides a .git');
      for (const tip of [badEmail, dotGitCommit]) {
        const response = await h.push(
          pushRequest([create('refs/heads/main', tip)], { pack: packObjects(h.source, listObjects(h.source, [tip])) }),
        );
        assert.match(response.report[0], /^unpack fsck error in packed object [0-9a-f]{40}: /);
        assert.deepEqual(response.report.slice(1), ['ng refs/heads/main unpacker error']);
      }
      assert.deepEqual(await h.refs(), {});
      assert.equal(await h.packCount(), 0);
    });

    it('refuses tips whose objects are missing (connectivity), storing nothing', async (t) => {
      const h = await harness(t, backend);
      const [a] = commitChain(h.source, 1);
      const tree = gitText(h.source, ['rev-parse', `${a}^{tree}`]);
      // The commit alone: its tree and blobs are neither sent nor in the repository.
      const commitOnly = await h.push(pushRequest([create('refs/heads/main', a)], { pack: packObjects(h.source, [a]) }));
      assert.deepEqual(commitOnly.report, ['unpack ok', 'ng refs/heads/main missing necessary objects']);
      // The tree without its blobs.
      const treeOnly = await h.push(pushRequest([create('refs/heads/main', a)], { pack: packObjects(h.source, [a, tree]) }));
      assert.deepEqual(treeOnly.report, ['unpack ok', 'ng refs/heads/main missing necessary objects']);
      // A tip that was never sent, next to a valid update that still goes through.
      const [b] = commitChain(h.source, 1, undefined, 30);
      const ghost = await h.push(
        pushRequest([create('refs/heads/main', b), create('refs/heads/ghost', '1'.repeat(40))], { pack: packRevs(h.source, [b]) }),
      );
      assert.deepEqual(ghost.report, ['unpack ok', 'ok refs/heads/main', 'ng refs/heads/ghost missing necessary objects']);
      assert.deepEqual(await h.refs(), { 'refs/heads/main': b });
      assert.equal(await h.packCount(), 1);
    });

    it('refuses links that name an object as another type than it has, in the pack and in the repository', async (t) => {
      const h = await harness(t, backend);
      const [base] = commitChain(h.source, 1);
      assert.deepEqual((await h.push(pushRequest([create('refs/heads/main', base)], { pack: packRevs(h.source, [base]) }))).report, [
        'unpack ok',
        'ok refs/heads/main',
      ]);
      const stored = {
        tree: gitText(h.source, ['rev-parse', `${base}^{tree}`]),
        blob: gitText(h.source, ['rev-parse', `${base}:small.txt`]),
      };
      const blob = writeBlob(h.source, 'sent with the push\n');
      const tree = writeTree(h.source, [`100644 blob ${blob}\tfile`]);
      const rawTree = (mode: string, oid: string) =>
        gitText(
          h.source,
          ['hash-object', '-w', '-t', 'tree', '--literally', '--stdin'],
          Buffer.concat([Buffer.from(`${mode} entry\0`), Buffer.from(oid, 'hex')]),
        );
      const rawCommit = (treeLine: string, parents: string[]) =>
        gitText(
          h.source,
          ['hash-object', '-w', '-t', 'commit', '--literally', '--stdin'],
          `tree ${treeLine}\n${parents.map((p) => `parent ${p}\n`).join('')}author Ada <ada@example.com> 1700000000 +0000\ncommitter Ada <ada@example.com> 1700000000 +0000\n\nwrong type\n`,
        );
      const tagOf = (object: string, type: string) =>
        gitText(
          h.source,
          ['hash-object', '-w', '-t', 'tag', '--literally', '--stdin'],
          `object ${object}\ntype ${type}\ntag v1\ntagger Ada <ada@example.com> 1700000000 +0000\n\nwrong type\n`,
        );
      const inPackDir = rawTree('40000', blob);
      const inPackFile = rawTree('100644', tree);
      const storedDir = rawTree('40000', stored.blob);
      const storedFile = rawTree('100644', stored.tree);
      const tag = tagOf(stored.blob, 'commit');
      // What is wrong; the tip pushed and the objects sent with it; the mistyped object; "expected, found".
      const cases: Array<[string, string, string[], string, string]> = [
        ['a directory entry naming a blob of the pack', rawCommit(inPackDir, []), [inPackDir, blob], blob, 'tree, found blob'],
        ['a file entry naming a tree of the pack', rawCommit(inPackFile, []), [inPackFile, tree, blob], tree, 'blob, found tree'],
        ["a commit's tree that is a blob of the pack", rawCommit(blob, []), [blob], blob, 'tree, found blob'],
        ["a commit's parent, a tree of the repository", rawCommit(tree, [stored.tree]), [tree, blob], stored.tree, 'commit, found tree'],
        ['a directory entry naming a blob of the repository', rawCommit(storedDir, [base]), [storedDir], stored.blob, 'tree, found blob'],
        ['a file entry naming a tree of the repository', rawCommit(storedFile, [base]), [storedFile], stored.tree, 'blob, found tree'],
        ['a tag whose type line misnames a blob of the repository', tag, [], stored.blob, 'commit, found blob'],
      ];
      for (const [what, tip, sent, wrong, types] of cases) {
        const ref = tip === tag ? 'refs/tags/v1' : 'refs/heads/main';
        const command = tip === tag ? create(ref, tip) : update(ref, base, tip);
        const response = await h.push(pushRequest([command], { pack: packObjects(h.source, [tip, ...sent]) }));
        assert.deepEqual(response.report, [`unpack object ${wrong}: expected type ${types}`, `ng ${ref} unpacker error`], what);
      }
      assert.deepEqual(await h.refs(), { 'refs/heads/main': base });
      assert.equal(await h.packCount(), 1);
    });

    it('accepts a gitlink (submodule commit) that is not in the repository', async (t) => {
      const h = await harness(t, backend);
      const blob = writeBlob(h.source, 'module\n');
      const tree = writeTree(h.source, [`100644 blob ${blob}\t.gitmodules`, `160000 commit ${'2'.repeat(40)}\tsub`]);
      const commit = writeCommit(h.source, tree, [], 'with a submodule');
      const response = await h.push(pushRequest([create('refs/heads/main', commit)], { pack: packRevs(h.source, [commit]) }));
      assert.deepEqual(response.report, ['unpack ok', 'ok refs/heads/main']);
    });

    it('stops reading a pack over the size limit', async (t) => {
      const h = await harness(t, backend);
      const [a] = commitChain(h.source, 5);
      const pack = packRevs(h.source, [a]);
      const response = await h.push(pushRequest([create('refs/heads/main', a)], { pack }), {
        limits: { ...TEST_LIMITS, maxPackBytes: pack.length - 1 },
      });
      assert.deepEqual(response.report, ['unpack pack exceeds maximum allowed size', 'ng refs/heads/main unpacker error']);
      assert.deepEqual(await h.refs(), {});
    });

    it('stops reading a pack past the allowance a quota leaves, with its reason, and takes what fits', async (t) => {
      const h = await harness(t, backend);
      const [a] = commitChain(h.source, 5);
      const pack = packRevs(h.source, [a]);
      const reason = "octo's git data quota is 1 KiB and 1 KiB of it is used";
      const refused = await h.push(pushRequest([create('refs/heads/main', a)], { pack }), {
        packAllowance: { bytes: pack.length - 1, reason },
      });
      assert.deepEqual(refused.report, [`unpack ${reason}`, 'ng refs/heads/main unpacker error']);
      assert.deepEqual(await h.refs(), {});
      assert.equal(await h.packCount(), 0, 'nothing stored');
      const accepted = await h.push(pushRequest([create('refs/heads/main', a)], { pack }), {
        packAllowance: { bytes: pack.length, reason },
      });
      assert.deepEqual(accepted.report, ['unpack ok', 'ok refs/heads/main']);
    });

    it('refuses an object that inflates past the object size limit (a bomb)', async (t) => {
      const h = await harness(t, backend);
      const bomb = writeBlob(h.source, Buffer.alloc(4 << 20));
      const commit = writeCommit(h.source, writeTree(h.source, [`100644 blob ${bomb}\tzeros`]), [], 'bomb');
      const pack = packRevs(h.source, [commit]);
      assert.ok(pack.length < 64 * 1024, 'the pack itself is small');
      const response = await h.push(pushRequest([create('refs/heads/main', commit)], { pack }), {
        limits: { ...TEST_LIMITS, maxObjectSize: 1 << 20 },
      });
      assert.match(response.report[0], /^unpack .+/);
      assert.notEqual(response.report[0], 'unpack ok');
      assert.deepEqual(await h.refs(), {});
      assert.equal(await h.packCount(), 0);
    });

    it('deletes refs without a pack, never the branch HEAD points at', async (t) => {
      const h = await harness(t, backend);
      const [a] = commitChain(h.source, 1);
      await h.push(
        pushRequest([create('refs/heads/main', a), create('refs/heads/topic', a), create('refs/tags/v1', a)], {
          pack: packRevs(h.source, [a]),
        }),
      );
      const response = await h.push(
        pushRequest([
          remove('refs/heads/topic', a),
          remove('refs/tags/v1', a),
          remove('refs/heads/main', a),
          remove('refs/heads/never', a),
        ]),
      );
      assert.deepEqual(response.report, [
        'unpack ok',
        'ok refs/heads/topic',
        'ok refs/tags/v1',
        'ng refs/heads/main deletion of the current branch prohibited',
        'ok refs/heads/never',
      ]);
      assert.match(response.progress, /warning: deleting a non-existent ref refs\/heads\/never/);
      assert.deepEqual(await h.refs(), { 'refs/heads/main': a });
    });

    it('refuses a non-commit on a branch and a ref name git would not create', async (t) => {
      const h = await harness(t, backend);
      const blob = writeBlob(h.source, 'just a blob\n');
      const [a] = commitChain(h.source, 1);
      const response = await h.push(
        pushRequest(
          [
            create('refs/heads/blob', blob),
            create('refs/tags/blob', blob),
            create('refs/onelevel', a),
            create('HEAD', a),
            create('refs/heads/ok', a),
          ],
          {
            pack: packRevs(h.source, [a, blob]),
          },
        ),
      );
      assert.deepEqual(response.report, [
        'unpack ok',
        'ng refs/heads/blob failed to update ref',
        'ok refs/tags/blob',
        'ng refs/onelevel funny refname',
        'ng HEAD funny refname',
        'ok refs/heads/ok',
      ]);
      assert.deepEqual(await h.refs(), { 'refs/heads/ok': a, 'refs/tags/blob': blob });
    });

    it('passes push options and the applied updates to onRefsUpdated', async (t) => {
      const h = await harness(t, backend);
      const [a, b] = commitChain(h.source, 2);
      const calls: Array<[AppliedRefUpdate[], string[]]> = [];
      const onRefsUpdated = async (updates: AppliedRefUpdate[], options: string[]) => {
        calls.push([updates, options]);
      };
      const response = await h.push(
        pushRequest([create('refs/heads/main', b), update('refs/heads/stale', a, b)], {
          capabilities: ['report-status-v2', 'side-band-64k', 'push-options'],
          pushOptions: ['ci.skip', 'reviewer=ada'],
          pack: packRevs(h.source, [b]),
        }),
        { onRefsUpdated },
      );
      assert.deepEqual(response.report, ['unpack ok', 'ok refs/heads/main', 'ng refs/heads/stale failed to update ref']);
      assert.deepEqual(calls, [[[{ name: 'refs/heads/main', oldOid: ZERO_OID, newOid: b }], ['ci.skip', 'reviewer=ada']]]);
    });

    it('lets refuseUpdate refuse one ref with its reason, reading the pushed objects, while the others apply', async (t) => {
      const h = await harness(t, backend);
      const [a, b] = commitChain(h.source, 2);
      await h.push(pushRequest([create('refs/heads/main', a)], { pack: packRevs(h.source, [a]) }));
      const asked: string[] = [];
      const refuseUpdate: ReceivePackOptions['refuseUpdate'] = async (update, pushed) => {
        asked.push(`${update.name} ${pushed.received(update.newOid)} ${pushed.received(a)}`);
        assert.deepEqual(
          pushed.updates.map((each) => each.name),
          ['refs/heads/main', 'refs/heads/guarded'],
        );
        // The new commit is readable through the repository before any ref points at it.
        assert.equal((await h.repo.objects.read(b))?.type, 'commit');
        return update.name === 'refs/heads/guarded' ? 'guarded:\nkeep out' : undefined;
      };
      const response = await h.push(
        pushRequest([update('refs/heads/main', a, b), create('refs/heads/guarded', b)], { pack: packRevs(h.source, [b, `^${a}`]) }),
        { refuseUpdate },
      );
      assert.deepEqual(response.report, ['unpack ok', 'ok refs/heads/main', 'ng refs/heads/guarded guarded: keep out']);
      assert.deepEqual(asked, ['refs/heads/main true false', 'refs/heads/guarded true false']);
      assert.match(response.progress, /error: refs\/heads\/guarded: guarded:/);
      assert.deepEqual(await h.refs(), { 'refs/heads/main': b });

      const atomic = await h.push(
        pushRequest([update('refs/heads/main', b, a), create('refs/heads/guarded', a)], {
          capabilities: ['report-status', 'side-band-64k', 'atomic'],
          pack: packRevs(h.source, [a, `^${a}`]),
        }),
        { refuseUpdate },
      );
      assert.deepEqual(atomic.report, ['unpack ok', 'ng refs/heads/main atomic push failure', 'ng refs/heads/guarded guarded: keep out']);
      assert.deepEqual(await h.refs(), { 'refs/heads/main': b });
    });

    it('refuses a shallow push whose history the repository lacks', async (t) => {
      const h = await harness(t, backend);
      const [a, b] = commitChain(h.source, 2);
      // What a shallow clone that only has b pushes: b and its tree, not its parent a.
      const pack = packObjects(h.source, listObjects(h.source, [b, `^${a}`]));
      const response = await h.push(pushRequest([create('refs/heads/main', b)], { shallow: [b], pack }));
      assert.deepEqual(response.report, ['unpack ok', 'ng refs/heads/main shallow update not allowed']);
      assert.deepEqual(await h.refs(), {});
      assert.equal(await h.packCount(), 0);
      // Shallow on the client but complete here: nothing is missing, so it is accepted.
      await h.push(pushRequest([create('refs/heads/main', a)], { pack: packRevs(h.source, [a]) }));
      const ok = await h.push(pushRequest([update('refs/heads/main', a, b)], { shallow: [a], pack }));
      assert.deepEqual(ok.report, ['unpack ok', 'ok refs/heads/main']);
    });

    it('speaks without side-band, and keeps quiet when asked', async (t) => {
      const h = await harness(t, backend);
      const [a, b] = commitChain(h.source, 2);
      const plain = await h.push(
        pushRequest([create('refs/heads/main', a)], { capabilities: ['report-status'], pack: packRevs(h.source, [a]) }),
        {
          sideband: false,
        },
      );
      assert.deepEqual(plain.report, ['unpack ok', 'ok refs/heads/main']);
      const quiet = await h.push(
        pushRequest([update('refs/heads/main', a, b)], {
          capabilities: ['report-status', 'side-band-64k', 'quiet'],
          pack: packRevs(h.source, [b, `^${a}`]),
        }),
      );
      assert.deepEqual(quiet.report, ['unpack ok', 'ok refs/heads/main']);
      assert.equal(quiet.progress, '');
      const silent = await receivePack(h.repo, requestStream(pushRequest([remove('refs/heads/x', b)], { capabilities: [] })), {
        limits: TEST_LIMITS,
        spoolDir: h.spoolDir,
      });
      assert.equal((await collect(silent)).length, 0, 'no report-status asked, none sent');
    });

    it('reports a storage failure before the refs move, and an internal failure on band 3', async (t) => {
      const h = await harness(t, backend);
      const [a, b] = commitChain(h.source, 2);
      const addPack = h.repo.packs.add.bind(h.repo.packs);
      h.repo.packs.add = async () => {
        throw new Error('blob store unavailable');
      };
      const unstored = await h.push(pushRequest([create('refs/heads/main', a)], { pack: packRevs(h.source, [a]) }));
      assert.deepEqual(unstored.report, ['unpack ok', 'ng refs/heads/main unable to migrate objects to permanent storage']);
      assert.match(unstored.progress, /error: storing pack [0-9a-f]{40}: blob store unavailable/);
      assert.deepEqual(await h.refs(), {});

      h.repo.packs.add = addPack;
      h.repo.refs.update = async () => {
        throw new Error('kv store unavailable');
      };
      const errors: unknown[] = [];
      const failed = await h.push(pushRequest([create('refs/heads/main', b)], { pack: packRevs(h.source, [b]) }), {
        onError: (error) => errors.push(error),
      });
      assert.deepEqual(failed.report, []);
      assert.match(failed.fatal, /^fatal: the push could not be completed/);
      assert.deepEqual(
        errors.map((e) => (e as Error).message),
        ['kv store unavailable'],
      );
      await assert.rejects(
        h.run(pushRequest([create('refs/heads/main', b)], { pack: packRevs(h.source, [b]) })),
        /kv store unavailable/,
        'without onError the response itself fails',
      );
    });

    it('reports a request that breaks off inside the pack as an unpack error', async (t) => {
      const h = await harness(t, backend);
      const [a] = commitChain(h.source, 3);
      const body = pushRequest([create('refs/heads/main', a)], { pack: packRevs(h.source, [a]) });
      const broken = Readable.from(
        (async function* () {
          yield body.subarray(0, body.length - 100);
          throw new Error('socket hang up');
        })(),
      );
      const response = await receivePack(h.repo, broken, { limits: TEST_LIMITS, spoolDir: h.spoolDir });
      const parsed = parseResponse(await collect(response), true);
      assert.deepEqual(parsed.report, [
        'unpack the request ended before the pack was read: socket hang up',
        'ng refs/heads/main unpacker error',
      ]);
      h.assertSpoolEmpty();
      assert.deepEqual(await h.refs(), {});
    });

    it('rejects malformed commands with a ProtocolError before any output', async (t) => {
      const h = await harness(t, backend);
      const [a] = commitChain(h.source, 1);
      const bodies = [
        Buffer.from('garbage that is no pkt-line'),
        pushRequest([{ old: 'xyz', new: a, ref: 'refs/heads/main' }]),
        pushRequest([create('refs/heads/main', a)]).subarray(0, 20),
        Buffer.concat([pkt('shallow not-an-id'), FLUSH]),
        pushRequest([create('refs/heads/main', a)], { capabilities: ['report-status', 'object-format=sha256'] }),
        Buffer.alloc(0),
      ];
      for (const body of bodies) {
        await assert.rejects(receivePack(h.repo, requestStream(body), { limits: TEST_LIMITS, spoolDir: h.spoolDir }), (error: unknown) => {
          assert.ok(error instanceof ProtocolError, `${String(error)} is a ProtocolError`);
          assert.equal(error.status, 400);
          return true;
        });
      }
      assert.deepEqual(await h.refs(), {});
    });
  });
}
