import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ObjectParseError,
  commitTreeAndParents,
  forEachTreeEntry,
  parseCommit,
  parseTag,
  parseTree,
  serializeCommit,
  serializeTag,
  serializeTree,
  type Commit,
} from '../src/objects.js';
import { hashObject } from '../src/oid.js';
import { git, gitText } from '@gitfleet/test-support/git';
import { buildRichRepository } from '@gitfleet/test-support/histories';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { allObjects, writeLiteral, type StoredObject } from './real-git.js';

let repo: string;
let objects: Map<string, StoredObject>;

function ofType(type: string): Array<[string, Buffer]> {
  return [...objects].filter(([, o]) => o.type === type).map(([oid, o]) => [oid, o.body]);
}

function commitWith(predicate: (body: string) => boolean): Buffer {
  const found = ofType('commit').find(([, body]) => predicate(body.toString('latin1')));
  assert.ok(found, 'the fixture repository has such a commit');
  return found[1];
}

const dir = tempDir({ after }, 'objects');
before(() => {
  repo = buildRichRepository(dir);
  objects = allObjects(repo);
});

describe('objects written by real git', () => {
  it('covers every shape the tests rely on', () => {
    const commits = ofType('commit').map(([, b]) => b.toString('latin1'));
    assert.ok(commits.some((c) => c.includes('\ngpgsig ')));
    assert.ok(commits.some((c) => c.includes('\nmergetag ')));
    assert.ok(commits.some((c) => c.includes('\nencoding ISO-8859-1\n')));
    assert.ok(commits.some((c) => c.split('\nparent ').length === 3));
    const modes = new Set<number>();
    for (const [, body] of ofType('tree')) forEachTreeEntry(body, (mode) => modes.add(mode));
    assert.deepEqual([...modes].sort(), [0o40000, 0o100644, 0o100755, 0o120000, 0o160000].sort());
    const tags = ofType('tag').map(([, b]) => b.toString('latin1'));
    assert.ok(tags.some((t) => !t.includes('\ntagger ')));
    assert.ok(tags.some((t) => t.includes('-----BEGIN PGP SIGNATURE-----')));
  });

  it('round-trips every commit, tree and tag byte for byte', () => {
    for (const [oid, { type, body }] of objects) {
      const again =
        type === 'commit'
          ? serializeCommit(parseCommit(body))
          : type === 'tree'
            ? serializeTree(parseTree(body))
            : type === 'tag'
              ? serializeTag(parseTag(body))
              : body;
      assert.ok(again.equals(body), `${type} ${oid} changed on a round trip`);
      assert.equal(hashObject(type, again), oid);
    }
  });

  it('parses commits as git reads them', () => {
    const log = gitText(repo, ['log', '--all', '--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%at%x00%ai%x00%cn%x00%ct']).split('\n');
    assert.ok(log.length >= 6);
    for (const line of log) {
      const [oid, tree, parents, authorName, authorEmail, authorTime, authorIso, committerName, committerTime] = line.split('\0');
      const commit = parseCommit(objects.get(oid)!.body);
      assert.equal(commit.tree, tree);
      assert.deepEqual(commit.parents, parents ? parents.split(' ') : []);
      assert.equal(commit.author.name, authorName);
      assert.equal(commit.author.email, authorEmail);
      assert.equal(commit.author.timestamp, Number(authorTime));
      assert.equal(commit.author.timezone, authorIso.slice(-5));
      assert.equal(commit.committer.name, committerName);
      assert.equal(commit.committer.timestamp, Number(committerTime));
      const fast = commitTreeAndParents(objects.get(oid)!.body);
      assert.deepEqual(fast, { tree, parents: commit.parents, committerTime: Number(committerTime) });
    }
  });

  it('unfolds multi-line headers and keeps the message', () => {
    const signed = parseCommit(commitWith((c) => c.includes('\ngpgsig ')));
    const [key, value] = signed.extraHeaders[0];
    assert.equal(key, 'gpgsig');
    assert.equal(value, '-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEE\n=abcd\n-----END PGP SIGNATURE-----');
    assert.equal(signed.message, 'signed commit on side\n');

    const merge = parseCommit(commitWith((c) => c.includes('\nmergetag ')));
    const mergetag = merge.extraHeaders.find(([k]) => k === 'mergetag')![1];
    const embedded = parseTag(Buffer.from(`${mergetag}\n`));
    assert.equal(embedded.tag, 'v-signed-2');
    assert.equal(embedded.object, merge.parents[1]);
  });

  it('keeps the bytes of a header name that is not ASCII', () => {
    for (const key of [Buffer.from('x-caf\xe9', 'latin1'), Buffer.from('x-café', 'utf8')]) {
      const body = Buffer.concat([Buffer.from(`object ${'a'.repeat(40)}\ntype commit\ntag v1\n`), key, Buffer.from(' value\n\nmessage\n')]);
      assert.ok(serializeTag(parseTag(body)).equals(body));
    }
  });

  it('folds a tag name or an identity that holds a newline, as parsing unfolds it', () => {
    const ident = 'A\n U Thor <a@b> 1 +0000';
    const tag = Buffer.from(`object ${'a'.repeat(40)}\ntype commit\ntag v1\n -rc\ntagger ${ident.replace('\n', '\n ')}\n\nm\n`);
    assert.equal(parseTag(tag).tag, 'v1\n-rc');
    assert.ok(serializeTag(parseTag(tag)).equals(tag));
    const commit = Buffer.from(
      `tree ${'a'.repeat(40)}\nauthor ${ident.replace('\n', '\n ')}\ncommitter ${ident.replace('\n', '\n ')}\n\nm\n`,
    );
    assert.equal(parseCommit(commit).author.name, 'A\n U Thor');
    assert.ok(serializeCommit(parseCommit(commit)).equals(commit));
  });

  it('keeps non-UTF-8 bytes of a commit with an encoding header', () => {
    const body = commitWith((c) => c.includes('\nencoding '));
    const commit = parseCommit(body);
    assert.deepEqual(commit.extraHeaders, [['encoding', 'ISO-8859-1']]);
    assert.equal(commit.message, 'caf\udce9 latin-1 message\n');
    assert.ok(serializeCommit(commit).equals(body));
  });

  it('lists tree entries like git ls-tree', () => {
    for (const [oid, body] of ofType('tree')) {
      const listed = git(repo, ['ls-tree', '-z', oid])
        .toString('utf8')
        .split('\0')
        .filter(Boolean)
        .map((line) => {
          const [meta, name] = line.split('\t');
          const [mode, , entryOid] = meta.split(' ');
          return { mode: mode.replace(/^0/, ''), name, oid: entryOid };
        });
      assert.deepEqual(parseTree(body), listed);
      const visited: typeof listed = [];
      forEachTreeEntry(body, (mode, name, entryOid) =>
        visited.push({ mode: mode.toString(8), name: name.toString('utf8'), oid: entryOid }),
      );
      assert.deepEqual(visited, listed);
    }
  });

  it('reads a mode wider than 32 bits as git does, wrapped', () => {
    const blob = writeLiteral(repo, 'blob', Buffer.from('wide\n'));
    const body = Buffer.concat([Buffer.from('40000100644 a\0'), Buffer.from(blob, 'hex')]);
    const tree = writeLiteral(repo, 'tree', body);
    assert.equal(gitText(repo, ['ls-tree', tree]), `100644 blob ${blob}\ta`);
    const modes: number[] = [];
    forEachTreeEntry(body, (mode) => modes.push(mode));
    assert.deepEqual(modes, [0o100644]);
  });

  it('parses tags, with and without a tagger', () => {
    const refs = gitText(repo, [
      'for-each-ref',
      'refs/tags',
      '--format=%(objecttype)%00%(objectname)%00%(object)%00%(type)%00%(tag)%00%(taggername)%00%(taggerdate:unix)',
    ]);
    let annotated = 0;
    for (const line of refs.split('\n')) {
      const [refType, oid, object, type, name, taggerName, taggerTime] = line.split('\0');
      if (refType !== 'tag') continue;
      annotated++;
      const tag = parseTag(objects.get(oid)!.body);
      assert.deepEqual([tag.object, tag.type, tag.tag], [object, type, name]);
      assert.equal(tag.tagger?.name ?? '', taggerName);
      assert.equal(String(tag.tagger?.timestamp ?? ''), taggerTime);
    }
    assert.equal(annotated, ofType('tag').length);
    const taggerless = parseTag(ofType('tag').find(([, b]) => !b.includes('\ntagger '))![1]);
    assert.equal(taggerless.tagger, undefined);
    assert.equal(taggerless.tag, 'no-tagger');
    assert.equal(taggerless.message, 'old style tag\n');
    const blobTag = parseTag(ofType('tag').find(([, b]) => b.includes('\ntag blob-tag\n'))![1]);
    assert.deepEqual(blobTag.tagger, { name: 'C O Mitter', email: 'committer@example.com', timestamp: 1700000100, timezone: '-0700' });
    assert.equal(blobTag.type, 'blob');
  });
});

describe('serialising objects git then accepts', () => {
  it('writes a commit, a tree and a tag that git fsck finds well-formed', () => {
    const blob = writeLiteral(repo, 'blob', Buffer.from('x\n'));
    const tree = serializeTree([
      { mode: '100644', name: 'a', oid: blob },
      { mode: '40000', name: 'dir', oid: gitText(repo, ['mktree'], '') },
      { mode: '120000', name: 'é-link', oid: blob },
    ]);
    const treeOid = writeLiteral(repo, 'tree', tree);
    const commit: Commit = {
      tree: treeOid,
      parents: [],
      author: { name: 'Ada', email: 'ada@example.com', timestamp: 1, timezone: '+0000' },
      committer: { name: 'Bob Ünicode', email: 'bob@example.com', timestamp: 2, timezone: '-1230' },
      extraHeaders: [['x-multi', 'line one\n\nline three']],
      message: 'subject\n\nbody\n',
    };
    const commitOid = writeLiteral(repo, 'commit', serializeCommit(commit));
    const tagOid = writeLiteral(
      repo,
      'tag',
      serializeTag({ object: commitOid, type: 'commit', tag: 'made', tagger: commit.author, extraHeaders: [], message: 'm\n' }),
    );
    const report = git(repo, ['fsck', '--strict', '--no-dangling', tagOid, commitOid, treeOid]).toString();
    assert.equal(report, '');
    assert.equal(gitText(repo, ['log', '-1', '--format=%cn|%ct|%B', commitOid]), 'Bob Ünicode|2|subject\n\nbody');
    assert.deepEqual(gitText(repo, ['cat-file', 'commit', commitOid]).split('\n').slice(3, 6), ['x-multi line one', ' ', ' line three']);
  });

  it('refuses to write what is not an object id or a mode', () => {
    assert.throws(() => serializeTree([{ mode: '10064x', name: 'a', oid: '0'.repeat(40) }]), TypeError);
    assert.throws(() => serializeTree([{ mode: '100644', name: 'a', oid: 'abc' }]), TypeError);
    assert.throws(() => serializeTree([{ mode: '100644', name: 'a\0b', oid: '0'.repeat(40) }]), TypeError);
  });
});

describe('malformed objects', () => {
  const tree = 'a'.repeat(40);
  const ident = 'A <a@b> 1 +0000';

  it('reports what is wrong and where', () => {
    assert.throws(() => parseCommit(Buffer.from(`parent ${tree}\n`)), ObjectParseError);
    assert.throws(() => parseCommit(Buffer.from(`tree ${tree}\nauthor ${ident}\n\nm`)), /no "committer"/);
    assert.throws(() => parseCommit(Buffer.from(`tree ${tree}\nauthor A <a@b> x +0000\ncommitter ${ident}\n\n`)), /malformed identity/);
    assert.throws(() => parseCommit(Buffer.from(`tree ${tree}`)), /unterminated header line at byte 0/);
    assert.throws(() => parseTree(Buffer.from('100644 a\0short')), /truncated entry at byte 0/);
    assert.throws(
      () => parseTree(Buffer.from(`100644 a\0${'x'.repeat(20)}10x644 b\0${'x'.repeat(20)}`)),
      /malformed mode in the entry at byte 29/,
    );
    assert.throws(() => parseTag(Buffer.from(`object ${tree}\ntype nope\ntag t\n\n`)), /unknown object type "nope"/);
    assert.throws(() => commitTreeAndParents(Buffer.from(`tree ${'g'.repeat(40)}\n`)), /not an object id/);
    assert.throws(() => commitTreeAndParents(Buffer.from(`tree ${tree}\nauthor ${ident}\n\nno committer\n`)), /no "committer" line/);
  });

  it('reads ids written in upper case as git does, lower-cased', () => {
    const body = Buffer.from(`tree ${'A'.repeat(40)}\nparent ${'B'.repeat(40)}\nauthor ${ident}\ncommitter ${ident}\n\nm\n`);
    assert.deepEqual(commitTreeAndParents(body), { tree: 'a'.repeat(40), parents: ['b'.repeat(40)], committerTime: 1 });
    assert.equal(parseCommit(body).tree, 'a'.repeat(40));
  });

  it('works on a Uint8Array that is not a Buffer', () => {
    const bytes = new Uint8Array(Buffer.from(`100644 a\0${'\x01'.repeat(20)}`, 'latin1'));
    assert.deepEqual(parseTree(bytes), [{ mode: '100644', name: 'a', oid: '01'.repeat(20) }]);
  });
});
