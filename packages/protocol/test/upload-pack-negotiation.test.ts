import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { test } from 'node:test';
import { git } from '@gitfleet/test-support/git';
import { buildSourceRepo } from '@gitfleet/test-support/histories';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import {
  entryTypes,
  gitUploadPack,
  indexInto,
  loadRepository,
  objectsOfPack,
  parseResponse,
  request,
  revListObjects,
  runUploadPack,
} from './upload-pack-helpers.js';
import type { Line } from './upload-pack-helpers.js';
import type { CommitInfo, CommitReader } from '@gitfleet/repository';
import { Negotiation } from '../src/upload-pack/negotiation.js';

const CAPS = 'multi_ack_detailed no-done side-band-64k thin-pack ofs-delta agent=git/2.39.2';

/** A client that has `main~8` (cloned earlier) and the ids it would send. */
function scenario(source: string) {
  const rev = (name: string) => git(source, ['rev-parse', name]).toString().trim();
  return { main: rev('main'), feature: rev('feature'), old: rev('main~8'), older: rev('main~9'), unknown: 'f'.repeat(40) };
}

test('v0 negotiation: ACK common / ready / NAK lines match git for the same requests', async (t) => {
  const dir = tempDir(t, 'nego');
  const source = buildSourceRepo(dir);
  const repo = await loadRepository(source, dir);
  const s = scenario(source);
  const requests: Line[][] = [
    // A round without done: git answers for this request's haves only.
    [`want ${s.main} ${CAPS}`, 'flush', `have ${s.unknown}`, `have ${s.old}`, 'flush'],
    [`want ${s.main} ${CAPS}`, `want ${s.feature}`, 'flush', `have ${s.old}`, `have ${s.older}`, 'flush'],
    [`want ${s.main} multi_ack side-band-64k`, 'flush', `have ${s.unknown}`, `have ${s.old}`, 'flush'],
    [`want ${s.main} side-band-64k`, 'flush', `have ${s.unknown}`, 'flush'],
    [`want ${s.main} multi_ack_detailed side-band-64k`, 'flush', `have ${s.unknown}`, 'flush'],
    // Only the wants: the first request of a stateless fetch that deepens.
    [`want ${s.main} ${CAPS}`, 'flush'],
  ];
  for (const lines of requests) {
    const body = request(lines);
    const ours = parseResponse(await runUploadPack(repo, body, 0));
    const theirs = parseResponse(gitUploadPack(source, body, 0));
    assert.deepEqual(ours.lines, theirs.lines, `request ${JSON.stringify(lines)}`);
    assert.equal(ours.pack.length > 0, theirs.pack.length > 0);
  }
});

test('v0 incremental fetch with done: thin pack completed from the client, only new objects sent', async (t) => {
  const dir = tempDir(t, 'thin');
  const source = buildSourceRepo(dir);
  const repo = await loadRepository(source, dir);
  const s = scenario(source);
  const client = path.join(dir, 'client.git');
  git(dir, ['clone', '--quiet', '--bare', '--no-local', source, client]);
  git(client, ['update-ref', 'refs/heads/main', s.old]);
  git(client, ['update-ref', '-d', 'refs/heads/feature']);
  for (const tag of ['v1.0', 'v1.0-signed', 'light', 'tree-tag']) git(client, ['update-ref', '-d', `refs/tags/${tag}`]);
  git(client, ['repack', '-a', '-d', '-q']);
  git(client, ['prune', '--expire=now']);

  const lines: Line[] = [`want ${s.main} ${CAPS}`, 'flush', `have ${s.old}`, 'done'];
  const response = parseResponse(await runUploadPack(repo, request(lines), 0));
  assert.deepEqual(response.lines, parseResponse(gitUploadPack(source, request(lines), 0)).lines);
  const checksum = indexInto(client, response.pack);
  const sent = objectsOfPack(client, checksum);
  const expected = revListObjects(source, [s.main, `^${s.old}`]);
  for (const oid of expected) assert.ok(sent.has(oid), `new object ${oid} sent`);
  git(client, ['update-ref', 'refs/heads/main', s.main]);
  git(client, ['fsck', '--full', '--no-dangling']);
  // The pack was thin: some deltas name bases only the client has (index-pack appended them).
  assert.ok(entryTypes(client, checksum, response.pack).has(7));
  assert.ok(sent.size > response.pack.readUInt32BE(8), 'index-pack appended bases the pack left out');
  assert.equal(response.pack.readUInt32BE(8), expected.size);
});

test('v0 no-done: the server says ready and sends the pack without waiting for done', async (t) => {
  const dir = tempDir(t, 'nodone');
  const source = buildSourceRepo(dir);
  const repo = await loadRepository(source, dir);
  const s = scenario(source);
  const lines: Line[] = [`want ${s.main} ${CAPS}`, 'flush', `have ${s.old}`, 'flush'];
  const ours = parseResponse(await runUploadPack(repo, request(lines), 0));
  const theirs = parseResponse(gitUploadPack(source, request(lines), 0));
  assert.deepEqual(ours.lines, theirs.lines);
  assert.ok(ours.lines.includes(`ACK ${s.old} ready`));
  assert.equal(ours.pack.subarray(0, 4).toString(), 'PACK');
});

test('okToGiveUp stops at the lowest generation among what the client has, where commit dates tell nothing', async () => {
  // main: c1 … c300, one parent each, generation = number; side: one commit on c10. Every commit
  // has the same date, so only generations can tell that side cannot reach what the client has.
  const id = (name: string) => createHash('sha1').update(name).digest('hex');
  const commits = new Map<string, CommitInfo>();
  for (let n = 1; n <= 300; n++) {
    commits.set(id(`c${n}`), { tree: id('tree'), parents: n === 1 ? [] : [id(`c${n - 1}`)], time: 1_700_000_000, generation: n });
  }
  const side = id('side');
  commits.set(side, { tree: id('tree'), parents: [id('c10')], time: 1_700_000_000, generation: 11 });
  const walked = async (withGenerations: boolean): Promise<{ ready: boolean; reads: number }> => {
    let reads = 0;
    const read = (oid: string): CommitInfo | undefined => {
      reads++;
      const commit = commits.get(oid);
      return commit && !withGenerations ? { ...commit, generation: undefined } : commit;
    };
    const reader = {
      objects: { header: async (oid: string) => (commits.has(oid) ? { type: 'commit', size: 0 } : undefined) },
      tryCommit: async (oid: string) => read(oid),
      commit: async (oid: string) => read(oid)!,
      peel: async (oid: string) => ({ oid, type: 'commit', chain: [] }),
    } as unknown as CommitReader;
    const negotiation = new Negotiation(reader, [side]);
    assert.equal(await negotiation.have(id('c250')), true);
    const ready = await negotiation.okToGiveUp();
    return { ready, reads };
  };
  const dated = await walked(false);
  const generations = await walked(true);
  assert.deepEqual([dated.ready, generations.ready], [false, false], 'side reaches nothing the client has');
  // Without generations the walk goes down to c1; with them it stops at side itself.
  assert.ok(dated.reads >= 10, `read ${dated.reads} commits without generations`);
  assert.ok(generations.reads < dated.reads - 8, `read ${generations.reads} commits with generations, ${dated.reads} without`);
});
