import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { advertiseUploadPack } from '../src/index.js';
import { git } from '@gitfleet/test-support/git';
import { buildSourceRepo } from '@gitfleet/test-support/histories';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import {
  gitRefs,
  gitUploadPack,
  indexInto,
  loadRepository,
  entryTypes,
  objectsOfPack,
  parseResponse,
  request,
  revListObjects,
  runUploadPack,
} from './upload-pack-helpers.js';

const CAPS = 'multi_ack_detailed no-done side-band-64k thin-pack ofs-delta deepen-since deepen-not agent=git/2.39.2';

test('v0 advertisement lists HEAD, refs and peeled tags as git does', async (t) => {
  const dir = tempDir(t, 'adv');
  const source = buildSourceRepo(dir);
  const repo = await loadRepository(source, dir);
  const ours = parseResponse(Buffer.concat(await advertiseUploadPack(repo, 0))).lines;
  const theirs = parseResponse(git(source, ['upload-pack', '--advertise-refs', '--stateless-rpc', source])).lines;
  const strip = (lines: typeof ours) => lines.map((l) => (typeof l === 'string' ? l.split('\0')[0] : l));
  assert.deepEqual(strip(ours), strip(theirs));
  const caps = ours[0].split('\0')[1].split(' ');
  for (const cap of [
    'multi_ack_detailed',
    'no-done',
    'side-band-64k',
    'thin-pack',
    'ofs-delta',
    'shallow',
    'deepen-since',
    'deepen-not',
    'deepen-relative',
    'filter',
    'include-tag',
    'allow-tip-sha1-in-want',
    'allow-reachable-sha1-in-want',
    'symref=HEAD:refs/heads/main',
    'object-format=sha1',
    'no-progress',
  ]) {
    assert.ok(caps.includes(cap), `capability ${cap} in ${caps.join(' ')}`);
  }
  assert.ok(caps.some((c) => c.startsWith('agent=')));
  const v1 = parseResponse(Buffer.concat(await advertiseUploadPack(repo, 1))).lines;
  assert.equal(v1[0], 'version 1');
  assert.deepEqual(strip(v1.slice(1)), strip(theirs));
});

test('v0 advertisement of an empty repository is the capabilities^{} line', async (t) => {
  const dir = tempDir(t, 'empty');
  const source = path.join(dir, 'empty.git');
  git(dir, ['init', '--quiet', '--bare', '--initial-branch=main', source]);
  const repo = await loadRepository(source, dir);
  const lines = parseResponse(Buffer.concat(await advertiseUploadPack(repo, 0))).lines;
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^0{40} capabilities\^\{\}\0multi_ack /);
  assert.equal(lines[1], 'flush');
});

test('v0 full clone: the pack holds every reachable object and passes index-pack and fsck', async (t) => {
  const dir = tempDir(t, 'clone');
  const source = buildSourceRepo(dir);
  const repo = await loadRepository(source, dir);
  const refs = gitRefs(source);
  const wants = [...new Set(refs.map((r) => r.oid))];
  const body = request([`want ${wants[0]} ${CAPS} include-tag`, ...wants.slice(1).map((w) => `want ${w}`), 'flush', 'done']);
  const response = parseResponse(await runUploadPack(repo, body, 0));
  assert.deepEqual(response.lines, ['NAK', 'flush']);
  assert.match(response.progress, /Enumerating objects: \d+, done\./);
  assert.match(response.progress, /Total \d+ \(delta \d+\), reused \d+ \(delta \d+\), pack-reused 0/);

  const clone = path.join(dir, 'clone.git');
  git(dir, ['init', '--quiet', '--bare', '--initial-branch=main', clone]);
  const checksum = indexInto(clone, response.pack);
  assert.deepEqual(objectsOfPack(clone, checksum), revListObjects(source, ['--all']));
  for (const ref of refs) git(clone, ['update-ref', ref.name, ref.oid]);
  git(clone, ['fsck', '--full', '--strict', '--no-dangling']);
  // Every stored entry was copied as stored: nothing re-deflated.
  const total = /Total (\d+) \(delta (\d+)\), reused (\d+)/.exec(response.progress)!;
  assert.equal(total[1], total[3]);
});

test('v0 full clone without ofs-delta or side-band: raw pack of ref-deltas', async (t) => {
  const dir = tempDir(t, 'raw');
  const source = buildSourceRepo(dir);
  const repo = await loadRepository(source, dir);
  const main = git(source, ['rev-parse', 'main']).toString().trim();
  const response = await runUploadPack(repo, request([`want ${main} multi_ack_detailed`, 'flush', 'done']), 0);
  const parsed = parseResponse(response);
  assert.deepEqual(parsed.lines, ['NAK']);
  assert.equal(parsed.pack.subarray(0, 4).toString(), 'PACK');
  const clone = path.join(dir, 'clone.git');
  git(dir, ['init', '--quiet', '--bare', '--initial-branch=main', clone]);
  const checksum = indexInto(clone, parsed.pack);
  assert.deepEqual(objectsOfPack(clone, checksum), revListObjects(source, [main]));
  assert.deepEqual(entryTypes(clone, checksum, parsed.pack).has(6), false);
  assert.ok(entryTypes(clone, checksum, parsed.pack).has(7), 'deltas are sent as ref-deltas');
  // git sends the same answer lines to the same request.
  assert.deepEqual(parseResponse(gitUploadPack(source, request([`want ${main} multi_ack_detailed`, 'flush', 'done']), 0)).lines, ['NAK']);
});
