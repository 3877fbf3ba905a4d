import assert from 'node:assert/strict';
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
