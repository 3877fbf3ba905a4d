// The protocol side of packfile URIs that needs no repacked repository: the advertisement, and
// requests that name protocols where no pack can be offered. The offer itself, with a repacked
// repository and real git, is tested end to end in test/packfile-uris.test.ts.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { git } from '@gitfleet/test-support/git';
import { buildSourceRepo } from '@gitfleet/test-support/histories';
import { TEST_PROTOCOL_LIMITS } from '@gitfleet/test-support/protocol-limits';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { advertiseUploadPack, uploadPack, type PackfileUriSource } from '../src/index.js';
import { MAX_PACKFILE_URI_PROTOCOLS } from '../src/upload-pack/packfile-uris.js';
import { gitUploadPack, loadRepository, parseResponse, request } from './upload-pack-helpers.js';

test('v2 advertises packfile-uris among the fetch features only when the server can make URIs', async (t) => {
  const dir = tempDir(t, 'uris-adv');
  const repo = await loadRepository(buildSourceRepo(dir, 5), dir);
  const fetchLine = async (packfileUris: boolean) =>
    parseResponse(Buffer.concat(await advertiseUploadPack(repo, 2, { packfileUris }))).lines.find((line) => line.startsWith('fetch='));
  assert.equal(await fetchLine(true), 'fetch=shallow wait-for-done filter ref-in-want sideband-all packfile-uris');
  assert.equal(await fetchLine(false), 'fetch=shallow wait-for-done filter ref-in-want sideband-all');
});

test('packfile-uris lines are taken as git takes them; without a repacked pack nothing is offered and the source is never asked', async (t) => {
  const dir = tempDir(t, 'uris-none');
  const source = buildSourceRepo(dir);
  const repo = await loadRepository(source, dir);
  const main = git(source, ['rev-parse', 'main']).toString().trim();
  let asked = 0;
  const uris: PackfileUriSource = {
    uriFor: async () => {
      asked++;
      return 'http://example.test/pack';
    },
  };
  const head = ['command=fetch', 'agent=git/2.39.2', 'object-format=sha1', 'delim', 'ofs-delta', 'no-progress'];
  for (const lines of [
    [...head, 'packfile-uris http,https', `want ${main}`, 'done', 'flush'],
    [...head, 'packfile-uris http', 'packfile-uris https', `want ${main}`, 'done', 'flush'],
  ]) {
    const body = request(lines);
    const response = await uploadPack(repo, Readable.from([body]), { version: 2, limits: TEST_PROTOCOL_LIMITS, packfileUris: uris });
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk);
    const ours = parseResponse(Buffer.concat(chunks));
    assert.deepEqual(ours.lines, parseResponse(gitUploadPack(source, body, 2)).lines, JSON.stringify(lines));
    assert.ok(ours.pack.length > 0);
  }
  assert.equal(asked, 0);
});

test('a request naming more distinct packfile-uris protocols than any client knows is refused, however many lines repeat them', async (t) => {
  const dir = tempDir(t, 'uris-many');
  const source = buildSourceRepo(dir, 5);
  const repo = await loadRepository(source, dir);
  const main = git(source, ['rev-parse', 'main']).toString().trim();
  const uris: PackfileUriSource = { uriFor: async () => undefined };
  const head = ['command=fetch', 'agent=git/2.39.2', 'object-format=sha1', 'delim', 'ofs-delta', 'no-progress'];
  const fetchWith = async (uriLines: string[]) => {
    const body = request([...head, ...uriLines, `want ${main}`, 'done', 'flush']);
    const response = await uploadPack(repo, Readable.from([body]), { version: 2, limits: TEST_PROTOCOL_LIMITS, packfileUris: uris });
    for await (const chunk of response) void chunk;
  };
  // Repeated lines add nothing: the protocols are kept once each.
  await fetchWith(Array.from({ length: 2000 }, () => 'packfile-uris http,https'));
  const tooMany = Array.from({ length: MAX_PACKFILE_URI_PROTOCOLS + 1 }, (_, i) => `p${i}`).join(',');
  await assert.rejects(
    fetchWith([`packfile-uris ${tooMany}`]),
    new RegExp(`more than ${MAX_PACKFILE_URI_PROTOCOLS} packfile-uris protocols`),
  );
});
