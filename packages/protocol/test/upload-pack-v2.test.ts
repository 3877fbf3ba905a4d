import assert from 'node:assert/strict';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { advertiseUploadPack, ProtocolError, uploadPack } from '../src/index.js';
import { ZERO_OID } from '@gitfleet/git-format';
import { git } from '@gitfleet/test-support/git';
import { buildSourceRepo } from '@gitfleet/test-support/histories';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import {
  addGitPack,
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

const HEAD_LINES: Line[] = ['agent=git/2.39.2', 'object-format=sha1', 'delim'];

test('v2 capability advertisement', async (t) => {
  const dir = tempDir(t, 'v2adv');
  const repo = await loadRepository(buildSourceRepo(dir, 5), dir);
  const lines = parseResponse(Buffer.concat(await advertiseUploadPack(repo, 2))).lines;
  assert.equal(lines[0], 'version 2');
  assert.ok(lines.includes('ls-refs=unborn'));
  assert.ok(lines.includes('fetch=shallow wait-for-done filter ref-in-want sideband-all'));
  assert.ok(lines.includes('object-format=sha1') && lines.includes('object-info') && lines.includes('server-option'));
  assert.equal(lines.at(-1), 'flush');
});

test('v2 ls-refs and object-info answer as git does', async (t) => {
  const dir = tempDir(t, 'lsrefs');
  const source = buildSourceRepo(dir);
  const repo = await loadRepository(source, dir);
  const main = git(source, ['rev-parse', 'main']).toString().trim();
  const blob = git(source, ['rev-parse', 'main:src/deep/er/text.txt']).toString().trim();
  const cases: Line[][] = [
    ['command=ls-refs', ...HEAD_LINES, 'flush'],
    ['command=ls-refs', ...HEAD_LINES, 'peel', 'symrefs', 'unborn', 'flush'],
    ['command=ls-refs', ...HEAD_LINES, 'peel', 'symrefs', 'ref-prefix HEAD', 'ref-prefix refs/tags/', 'flush'],
    ['command=object-info', ...HEAD_LINES, 'size', `oid ${main}`, `oid ${blob}`, `oid ${'e'.repeat(40)}`, 'flush'],
  ];
  for (const lines of cases) {
    const body = request(lines);
    assert.deepEqual(parseResponse(await runUploadPack(repo, body, 2)).lines, parseResponse(gitUploadPack(source, body, 2)).lines);
  }
});

test('v2 requests between two ref changes share one peeling of the refs; a change is seen at once and peels only what changed', async (t) => {
  const dir = tempDir(t, 'peeled');
  const source = buildSourceRepo(dir);
  const repo = await loadRepository(source, dir);
  let peels = 0;
  const readerOf = repo.commitReader.bind(repo);
  repo.commitReader = () => {
    const reader = readerOf();
    const peel = reader.peel.bind(reader);
    reader.peel = (oid) => {
      peels++;
      return peel(oid);
    };
    return reader;
  };
  const lsRefs = request(['command=ls-refs', ...HEAD_LINES, 'peel', 'symrefs', 'flush']);
  const listed = async () => parseResponse(await runUploadPack(repo, lsRefs, 2)).lines;
  const refCount = (await repo.refs.list()).length;

  const first = await listed();
  assert.equal(peels, refCount, 'the first request peels every ref');
  assert.deepEqual(await Promise.all([listed(), listed()]), [first, first]);
  assert.equal(peels, refCount, 'requests while the refs stay as they were peel nothing');

  const tag = git(source, ['rev-parse', 'v1.0']).toString().trim();
  const tagged = git(source, ['rev-parse', 'v1.0^{}']).toString().trim();
  const [conflict] = await repo.refs.update([{ name: 'refs/tags/moved', oldOid: ZERO_OID, newOid: tag }], {
    atomic: true,
    message: 'test',
  });
  assert.equal(conflict, undefined);
  const after = await listed();
  assert.ok(after.includes(`${tag} refs/tags/moved peeled:${tagged}`), after.join('\n'));
  assert.deepEqual(
    after.filter((line) => !line.includes('refs/tags/moved')),
    first,
    'the other refs as before',
  );
  assert.equal(peels, refCount + 1, 'a change of the refs peels the ref that changed, and only it');

  const [deleted] = await repo.refs.update([{ name: 'refs/tags/moved', oldOid: tag, newOid: ZERO_OID }], { atomic: true, message: 'test' });
  assert.equal(deleted, undefined);
  assert.deepEqual(await listed(), first, 'a deleted ref is gone at once');
  assert.equal(peels, refCount + 1);
});

test('v2 ls-refs shows an unborn HEAD', async (t) => {
  const dir = tempDir(t, 'unborn');
  const source = path.join(dir, 'empty.git');
  git(dir, ['init', '--quiet', '--bare', '--initial-branch=trunk', source]);
  const repo = await loadRepository(source, dir);
  const lines = parseResponse(
    await runUploadPack(repo, request(['command=ls-refs', ...HEAD_LINES, 'symrefs', 'unborn', 'flush']), 2),
  ).lines;
  assert.deepEqual(lines, ['unborn HEAD symref-target:refs/heads/trunk', 'flush']);
});

test('v2 fetch: acknowledgments, shallow-info, wanted-refs and packfile sections as git sends them', async (t) => {
  const dir = tempDir(t, 'v2fetch');
  const source = buildSourceRepo(dir);
  const repo = await loadRepository(source, dir);
  const rev = (name: string) => git(source, ['rev-parse', name]).toString().trim();
  const fetch: Line[] = ['command=fetch', ...HEAD_LINES, 'ofs-delta', 'no-progress'];
  const cases: Line[][] = [
    [...fetch, `want ${rev('main')}`, 'done', 'flush'],
    [...fetch, `want ${rev('main')}`, `have ${'f'.repeat(40)}`, 'flush'],
    [...fetch, `want ${rev('main')}`, `have ${rev('main~5')}`, 'flush'],
    [...fetch, `want ${rev('main')}`, `have ${rev('main~5')}`, 'wait-for-done', 'flush'],
    [...fetch, `want ${rev('main')}`, 'deepen 2', 'flush'],
    [...fetch, `want ${rev('main')}`, `shallow ${rev('main~1')}`, `have ${rev('main')}`, 'deepen 3', 'done', 'flush'],
    [...fetch, 'want-ref refs/heads/feature', 'done', 'flush'],
    [...fetch, `want ${rev('main')}`, 'sideband-all', 'deepen 1', 'flush'],
  ];
  for (const lines of cases) {
    const body = request(lines);
    const sidebandAll = lines.includes('sideband-all');
    const ours = parseResponse(await runUploadPack(repo, body, 2), { sidebandAll });
    const theirs = parseResponse(gitUploadPack(source, body, 2), { sidebandAll });
    const comparable = (l: Line[]) => l.filter((x) => !(typeof x === 'string' && /^(shallow|unshallow) /.test(x))).join('|');
    assert.equal(comparable(ours.lines), comparable(theirs.lines), `request ${JSON.stringify(lines)}`);
    assert.deepEqual(
      ours.lines.filter((x) => typeof x === 'string' && /^(shallow|unshallow) /.test(x)).sort(),
      theirs.lines.filter((x) => typeof x === 'string' && /^(shallow|unshallow) /.test(x)).sort(),
    );
    assert.equal(ours.pack.length > 0, theirs.pack.length > 0);
  }
});

test('v2 fetch with filters: blob:none, blob:limit, tree:0 send what git rev-list --filter selects', async (t) => {
  const dir = tempDir(t, 'filter');
  const source = buildSourceRepo(dir);
  const repo = await loadRepository(source, dir);
  const main = git(source, ['rev-parse', 'main']).toString().trim();
  for (const filter of ['blob:none', 'blob:limit=5000', 'tree:0', 'tree:2', 'object:type=commit', 'combine:blob:none+tree:3']) {
    const body = request(['command=fetch', ...HEAD_LINES, 'ofs-delta', `want ${main}`, `filter ${filter}`, 'done', 'flush']);
    const response = parseResponse(await runUploadPack(repo, body, 2));
    assert.deepEqual(response.lines, ['packfile', 'flush']);
    const clone = path.join(dir, `clone-${filter.replace(/[^a-z0-9]/g, '_')}.git`);
    git(dir, ['init', '--quiet', '--bare', '--initial-branch=main', clone]);
    const sent = objectsOfPack(clone, indexInto(clone, response.pack, { strict: false }));
    assert.deepEqual(sent, revListObjects(source, [`--filter=${filter}`, main]), filter);
  }
});

test('v0 include-tag brings annotated tags of sent commits', async (t) => {
  const dir = tempDir(t, 'tags');
  const source = buildSourceRepo(dir);
  const repo = await loadRepository(source, dir);
  const main = git(source, ['rev-parse', 'main']).toString().trim();
  const body = request([`want ${main} multi_ack_detailed side-band-64k ofs-delta include-tag`, 'flush', 'done']);
  const clone = path.join(dir, 'clone.git');
  git(dir, ['init', '--quiet', '--bare', '--initial-branch=main', clone]);
  const sent = objectsOfPack(clone, indexInto(clone, parseResponse(await runUploadPack(repo, body, 0)).pack));
  const theirs = path.join(dir, 'theirs.git');
  git(dir, ['init', '--quiet', '--bare', '--initial-branch=main', theirs]);
  assert.deepEqual(sent, objectsOfPack(theirs, indexInto(theirs, parseResponse(gitUploadPack(source, body, 0)).pack)));
  for (const tag of ['v1.0', 'v1.0-signed'])
    assert.ok(
      sent.has(
        git(source, ['rev-parse', `refs/tags/${tag}`])
          .toString()
          .trim(),
      ),
    );
});

test('bad requests are refused before any output', async (t) => {
  const dir = tempDir(t, 'bad');
  const source = buildSourceRepo(dir, 12);
  const repo = await loadRepository(source, dir);
  const main = git(source, ['rev-parse', 'main']).toString().trim();
  // A commit that is stored but that no ref reaches.
  const stray = git(source, ['commit-tree', '-m', 'stray', `${main}^{tree}`])
    .toString()
    .trim();
  git(source, ['update-ref', 'refs/stray', stray]);
  await addGitPack(repo, source, dir);
  assert.ok(await repo.objects.has(stray));
  const limits = {
    maxRequestBytes: 4096,
    maxRequestPackets: 1000,
    maxPackBytes: 1 << 20,
    maxObjectSize: 1 << 20,
    maxPushCommandBytes: 4096,
    maxPushCommands: 10,
    maxPushOptions: 10,
    maxRefNameBytes: 1024,
    maxPushRefLevels: 40000,
  };
  const refuse = async (body: Buffer, version: 0 | 2, status: number, message: RegExp) => {
    await assert.rejects(uploadPack(repo, Readable.from([body]), { version, limits }), (error: unknown) => {
      assert.ok(error instanceof ProtocolError, String(error));
      assert.equal(error.status, status);
      assert.match(error.message, message);
      return true;
    });
  };
  await refuse(Buffer.from('zzzz garbage'), 0, 400, /malformed/);
  await refuse(Buffer.from('0032want '), 0, 400, /malformed/);
  await refuse(request([`want ${'a'.repeat(40)} side-band-64k`, 'flush', 'done']), 0, 400, /not our ref a{40}/);
  await refuse(request([`want ${stray} side-band-64k`, 'flush', 'done']), 0, 400, new RegExp(`not our ref ${stray}`));
  await refuse(request(['command=fetch', ...HEAD_LINES, `want ${stray}`, 'done', 'flush']), 2, 400, /not our ref/);
  // Reachable from a ref without being a tip: allowed (allow-reachable-sha1-in-want).
  const older = git(source, ['rev-parse', 'main~3']).toString().trim();
  assert.match(parseResponse(await runUploadPack(repo, request([`want ${older} side-band-64k`, 'flush', 'done']), 0)).progress, /Total/);
  await refuse(request([`want ${main}`, 'bogus line', 'flush']), 0, 400, /expected to get object ID/);
  await refuse(request([`want ${main} side-band-64k`, 'filter blob:none', 'flush', 'done']), 0, 400, /filtering capability not negotiated/);
  await refuse(request([`want ${main} filter`, 'filter sparse:oid=abc', 'flush', 'done']), 0, 400, /not supported/);
  await refuse(request([`want ${main}`, 'deepen 0', 'flush']), 0, 400, /Invalid deepen/);
  await refuse(request([`want ${main}`, 'deepen 1', 'deepen-since 5', 'flush']), 0, 400, /cannot be used together/);
  await refuse(request([`want ${main}`, 'deepen-not nosuchref', 'flush']), 0, 400, /ambiguous deepen-not/);
  await refuse(request([`want ${main}`, ...Array.from({ length: 100 }, () => `have ${main}`), 'done']), 0, 413, /larger than 4096/);
  await refuse(request(['command=frobnicate', 'flush']), 2, 400, /invalid command/);
  await refuse(request(['command=fetch', ...HEAD_LINES, `want ${main}`, 'unknown-arg', 'flush']), 2, 400, /unexpected line/);
  await refuse(request(['command=fetch', ...HEAD_LINES, 'want-ref refs/heads/nope', 'flush']), 2, 400, /unknown ref/);
  await refuse(request(['command=fetch', 'object-format=sha256', 'delim', `want ${main}`, 'flush']), 2, 400, /object format/);
});
