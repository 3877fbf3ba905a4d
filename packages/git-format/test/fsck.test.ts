import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FsckError, fsckObject, fsckObjectLinks } from '../src/fsck.js';
import { objectTypeOfCode } from '../src/pack/entry.js';
import type { ObjectType } from '../src/oid.js';
import { git, gitStatus, gitText } from '@gitfleet/test-support/git';
import { buildRichRepository } from '@gitfleet/test-support/histories';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { allObjects, gitStrictVerdict } from './real-git.js';

let source: string;
let target: string;
/** Objects that exist in the receiving repository, for cases to point at. */
let blob: string;
let emptyTree: string;
let commit: string;

const dir = tempDir({ after }, 'fsck');
before(() => {
  source = `${dir}/source`;
  target = `${dir}/target.git`;
  git(dir, ['init', '-q', source]);
  git(dir, ['init', '-q', '--bare', target]);
  blob = gitText(target, ['hash-object', '-w', '--stdin'], 'hi\n');
  emptyTree = gitText(target, ['mktree'], '');
  commit = gitText(target, ['commit-tree', emptyTree, '-m', 'base']);
});

function ourVerdict(type: ObjectType, body: Buffer): { id?: string; references?: string[] } {
  try {
    return { references: fsckObject(type, body) };
  } catch (error) {
    assert.ok(error instanceof FsckError, `not an FsckError: ${String(error)}`);
    assert.match(error.message, new RegExp(`^${error.id}: `));
    return { id: error.id };
  }
}

interface Case {
  name: string;
  type: ObjectType;
  body: () => Buffer;
  /** Our fsck id, or undefined when git accepts the object. */
  expected: string | undefined;
}

const ident = 'A U Thor <author@example.com> 1700000000 +0100';

function commitBody(header: string, message = 'message\n'): Buffer {
  return Buffer.from(`${header}\n${message}`, 'latin1');
}
const standardCommit = (author = ident, committer = ident) =>
  `tree ${emptyTree}\nparent ${commit}\nauthor ${author}\ncommitter ${committer}\n`;

function treeBody(...entries: Array<[string, string, string?]>): Buffer {
  return Buffer.concat(
    entries.map(([mode, name, oid]) => Buffer.concat([Buffer.from(`${mode} ${name}\0`, 'utf8'), Buffer.from(oid ?? blob, 'hex')])),
  );
}
function tagBody(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}
const tagHead = (type = 'commit') => `object ${commit}\ntype ${type}\ntag v1\n`;

const cases: Case[] = [
  // Commits
  { name: 'a plain commit', type: 'commit', body: () => commitBody(standardCommit()), expected: undefined },
  {
    name: 'a commit with extra headers',
    type: 'commit',
    body: () =>
      commitBody(
        `${standardCommit()}encoding ISO-8859-1\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----\n`,
        'caf\xe9\n',
      ),
    expected: undefined,
  },
  { name: 'a commit with no message and no blank line', type: 'commit', body: () => Buffer.from(standardCommit()), expected: undefined },
  {
    name: 'ids in upper case',
    type: 'commit',
    body: () =>
      commitBody(
        standardCommit()
          .toUpperCase()
          .replace(/AUTHOR.*\n/, `author ${ident}\n`)
          .replace(/COMMITTER.*\n/, `committer ${ident}\n`)
          .replace('TREE', 'tree')
          .replace('PARENT', 'parent'),
      ),
    expected: undefined,
  },
  {
    name: 'a date after two spaces and a plus sign',
    type: 'commit',
    body: () => commitBody(standardCommit('A <a@b>  +17 +0000')),
    expected: undefined,
  },
  {
    name: 'no tree line',
    type: 'commit',
    body: () => commitBody(`parent ${commit}\nauthor ${ident}\ncommitter ${ident}\n`),
    expected: 'missingTree',
  },
  {
    name: 'a bad tree id',
    type: 'commit',
    body: () => commitBody(`tree ${'z'.repeat(40)}\nauthor ${ident}\ncommitter ${ident}\n`),
    expected: 'badTreeSha1',
  },
  {
    name: 'a short tree id',
    type: 'commit',
    body: () => commitBody(`tree ${emptyTree.slice(1)}\nauthor ${ident}\ncommitter ${ident}\n`),
    expected: 'badTreeSha1',
  },
  {
    name: 'a bad parent id',
    type: 'commit',
    body: () => commitBody(`tree ${emptyTree}\nparent ${commit}x\nauthor ${ident}\ncommitter ${ident}\n`),
    expected: 'badParentSha1',
  },
  { name: 'no author', type: 'commit', body: () => commitBody(`tree ${emptyTree}\ncommitter ${ident}\n`), expected: 'missingAuthor' },
  {
    name: 'two authors',
    type: 'commit',
    body: () => commitBody(`tree ${emptyTree}\nauthor ${ident}\nauthor ${ident}\ncommitter ${ident}\n`),
    expected: 'multipleAuthors',
  },
  { name: 'no committer', type: 'commit', body: () => commitBody(`tree ${emptyTree}\nauthor ${ident}\n`), expected: 'missingCommitter' },
  { name: 'a time zone without sign', type: 'commit', body: () => commitBody(standardCommit('A <a@b> 1 0100')), expected: 'badTimezone' },
  { name: 'a short time zone', type: 'commit', body: () => commitBody(standardCommit(ident, 'A <a@b> 1 +01')), expected: 'badTimezone' },
  {
    name: 'text after the time zone',
    type: 'commit',
    body: () => commitBody(standardCommit('A <a@b> 1 +0100 x')),
    expected: 'badTimezone',
  },
  {
    name: 'a date that is not a number',
    type: 'commit',
    body: () => commitBody(standardCommit('A <a@b> soon +0000')),
    expected: 'badDate',
  },
  { name: 'no date', type: 'commit', body: () => commitBody(standardCommit('A <a@b> +0000')), expected: 'badDate' },
  { name: 'a zero-padded date', type: 'commit', body: () => commitBody(standardCommit('A <a@b> 0123 +0000')), expected: 'zeroPaddedDate' },
  {
    name: 'a date past 64 bits',
    type: 'commit',
    body: () => commitBody(standardCommit('A <a@b> 99999999999999999999 +0000')),
    expected: 'badDateOverflow',
  },
  {
    name: 'a date past time_t',
    type: 'commit',
    body: () => commitBody(standardCommit('A <a@b> 9223372036854775808 +0000')),
    expected: 'badDateOverflow',
  },
  { name: 'a negative date', type: 'commit', body: () => commitBody(standardCommit('A <a@b> -1 +0000')), expected: 'badDateOverflow' },
  { name: 'an unterminated email', type: 'commit', body: () => commitBody(standardCommit('A <a@b 1 +0000')), expected: 'badEmail' },
  {
    name: 'an email and no name',
    type: 'commit',
    body: () => commitBody(standardCommit('<a@b> 1 +0000')),
    expected: 'missingNameBeforeEmail',
  },
  {
    name: 'no space before the email',
    type: 'commit',
    body: () => commitBody(standardCommit('A<a@b> 1 +0000')),
    expected: 'missingSpaceBeforeEmail',
  },
  { name: 'a ">" in the name', type: 'commit', body: () => commitBody(standardCommit('A > <a@b> 1 +0000')), expected: 'badName' },
  { name: 'no email', type: 'commit', body: () => commitBody(standardCommit('A a@b 1 +0000')), expected: 'missingEmail' },
  {
    name: 'no space before the date',
    type: 'commit',
    body: () => commitBody(standardCommit('A <a@b>1 +0000')),
    expected: 'missingSpaceBeforeDate',
  },
  { name: 'a NUL in a header', type: 'commit', body: () => commitBody(standardCommit('A\0B <a@b> 1 +0000')), expected: 'nulInHeader' },
  {
    name: 'an unterminated header',
    type: 'commit',
    body: () => Buffer.from(standardCommit().slice(0, -1)),
    expected: 'unterminatedHeader',
  },
  { name: 'a NUL in the message', type: 'commit', body: () => commitBody(standardCommit(), 'a\0b\n'), expected: 'nulInCommit' },

  // Trees
  {
    name: 'a tree with every kind of entry',
    type: 'tree',
    body: () => treeBody(['100644', 'a'], ['100755', 'b'], ['120000', 'c'], ['40000', 'd', emptyTree], ['160000', 'e', 'f'.repeat(40)]),
    expected: undefined,
  },
  { name: 'the empty tree', type: 'tree', body: () => Buffer.alloc(0), expected: undefined },
  { name: 'a group-writable mode (only "info" in git)', type: 'tree', body: () => treeBody(['100664', 'a']), expected: undefined },
  { name: 'an odd mode (only "info" in git)', type: 'tree', body: () => treeBody(['100600', 'a']), expected: undefined },
  { name: 'a mode git treats as a submodule', type: 'tree', body: () => treeBody(['170000', 'a', 'f'.repeat(40)]), expected: undefined },
  {
    name: 'a file sorted before a directory of a longer name',
    type: 'tree',
    body: () => treeBody(['100644', 'a.b'], ['40000', 'a', emptyTree], ['100644', 'a0']),
    expected: undefined,
  },
  { name: 'a name with a backslash', type: 'tree', body: () => treeBody(['100644', 'a\\b']), expected: undefined },
  { name: 'a name that merely starts with .git', type: 'tree', body: () => treeBody(['100644', '.github']), expected: undefined },
  { name: '"."', type: 'tree', body: () => treeBody(['40000', '.', emptyTree]), expected: 'hasDot' },
  { name: '".."', type: 'tree', body: () => treeBody(['40000', '..', emptyTree]), expected: 'hasDotdot' },
  { name: '".git"', type: 'tree', body: () => treeBody(['40000', '.git', emptyTree]), expected: 'hasDotgit' },
  { name: '".GiT"', type: 'tree', body: () => treeBody(['100644', '.GiT']), expected: 'hasDotgit' },
  { name: '".git. ." (NTFS trailing dots and spaces)', type: 'tree', body: () => treeBody(['100644', '.git. .']), expected: 'hasDotgit' },
  { name: '"GIT~1" (NTFS short name)', type: 'tree', body: () => treeBody(['100644', 'GIT~1']), expected: 'hasDotgit' },
  {
    name: '".git::$INDEX_ALLOCATION" (NTFS stream)',
    type: 'tree',
    body: () => treeBody(['100644', '.git::$INDEX_ALLOCATION']),
    expected: 'hasDotgit',
  },
  {
    name: '".g\\u200cit" (HFS+ ignorable code point)',
    type: 'tree',
    body: () => treeBody(['100644', '.g\u200cit']),
    expected: 'hasDotgit',
  },
  {
    name: '"\\ufeff.git\\u200f" (HFS+ ignorable code points)',
    type: 'tree',
    body: () => treeBody(['100644', '\ufeff.git\u200f']),
    expected: 'hasDotgit',
  },
  { name: '"a\\.git" (backslash as separator)', type: 'tree', body: () => treeBody(['100644', 'a\\.git']), expected: 'hasDotgit' },
  { name: 'a full path', type: 'tree', body: () => treeBody(['100644', 'a/b']), expected: 'fullPathname' },
  { name: 'an empty name', type: 'tree', body: () => treeBody(['100644', '']), expected: 'badTree' },
  { name: 'a zero-padded mode', type: 'tree', body: () => treeBody(['040000', 'd', emptyTree]), expected: 'zeroPaddedFilemode' },
  { name: 'a mode that is not octal', type: 'tree', body: () => treeBody(['100644', 'a'], ['10064x', 'b']), expected: 'badTree' },
  { name: 'an empty mode', type: 'tree', body: () => treeBody(['', 'a']), expected: 'badTree' },
  { name: 'a truncated entry', type: 'tree', body: () => treeBody(['100644', 'a']).subarray(0, 25), expected: 'badTree' },
  { name: 'garbage', type: 'tree', body: () => Buffer.from('not a tree at all\n'), expected: 'badTree' },
  { name: 'the same name twice', type: 'tree', body: () => treeBody(['100644', 'a'], ['100644', 'a']), expected: 'duplicateEntries' },
  {
    name: 'a file and a directory of one name',
    type: 'tree',
    body: () => treeBody(['100644', 'a'], ['40000', 'a', emptyTree]),
    expected: 'duplicateEntries',
  },
  {
    name: 'a file and a directory of one name, apart',
    type: 'tree',
    body: () => treeBody(['100644', 'foo'], ['100644', 'foo.bar'], ['40000', 'foo', emptyTree]),
    expected: 'duplicateEntries',
  },
  { name: 'names out of order', type: 'tree', body: () => treeBody(['100644', 'b'], ['100644', 'a']), expected: 'treeNotSorted' },
  {
    name: 'a directory sorted as if it had no slash',
    type: 'tree',
    body: () => treeBody(['40000', 'a', emptyTree], ['100644', 'a.b']),
    expected: 'treeNotSorted',
  },
  { name: 'a null id', type: 'tree', body: () => treeBody(['100644', 'a', '0'.repeat(40)]), expected: 'nullSha1' },
  { name: '.gitmodules as a symlink', type: 'tree', body: () => treeBody(['120000', '.gitmodules']), expected: 'gitmodulesSymlink' },
  { name: '"GITMOD~1" as a symlink', type: 'tree', body: () => treeBody(['120000', 'GITMOD~1']), expected: 'gitmodulesSymlink' },
  { name: '".gitmodules ." as a symlink', type: 'tree', body: () => treeBody(['120000', '.gitmodules .']), expected: 'gitmodulesSymlink' },
  {
    name: '"gi7eba~9" (NTFS fall-back short name) as a symlink',
    type: 'tree',
    body: () => treeBody(['120000', 'gi7eba~9']),
    expected: 'gitmodulesSymlink',
  },
  {
    name: '.gitignore as a symlink (only "info" in git)',
    type: 'tree',
    body: () => treeBody(['120000', '.gitignore']),
    expected: undefined,
  },

  // Tags
  { name: 'a tag', type: 'tag', body: () => tagBody(`${tagHead()}tagger ${ident}\n\nmessage\n`), expected: undefined },
  { name: 'a tag without tagger', type: 'tag', body: () => tagBody(`${tagHead()}\nmessage\n`), expected: undefined },
  {
    name: 'a tag with a name that is no ref name',
    type: 'tag',
    body: () => tagBody(`object ${commit}\ntype commit\ntag a..b\ntagger ${ident}\n\n`),
    expected: undefined,
  },
  {
    name: 'a tag with an extra header',
    type: 'tag',
    body: () => tagBody(`${tagHead()}tagger ${ident}\nextra header\n\nmessage\n`),
    expected: undefined,
  },
  { name: 'a tag with no object', type: 'tag', body: () => tagBody(`type commit\ntag v1\ntagger ${ident}\n\n`), expected: 'missingObject' },
  {
    name: 'a tag with a bad object id',
    type: 'tag',
    body: () => tagBody(`object ${commit.slice(2)}xx\ntype commit\ntag v1\ntagger ${ident}\n\n`),
    expected: 'badObjectSha1',
  },
  {
    name: 'a tag with no type',
    type: 'tag',
    body: () => tagBody(`object ${commit}\ntag v1\ntagger ${ident}\n\n`),
    expected: 'missingTypeEntry',
  },
  {
    name: 'a tag with an unknown type',
    type: 'tag',
    body: () => tagBody(`object ${commit}\ntype comet\ntag v1\ntagger ${ident}\n\n`),
    expected: 'badType',
  },
  {
    name: 'a tag with no tag line',
    type: 'tag',
    body: () => tagBody(`object ${commit}\ntype commit\ntagger ${ident}\n\n`),
    expected: 'missingTagEntry',
  },
  { name: 'a tag with a bad tagger', type: 'tag', body: () => tagBody(`${tagHead()}tagger A <a@b> 1 +00\n\n`), expected: 'badTimezone' },
  {
    name: 'a tag with a NUL in its headers',
    type: 'tag',
    body: () => tagBody(`${tagHead()}tagger A\0 <a@b> 1 +0000\n\n`),
    expected: 'nulInHeader',
  },
  { name: 'a tag shorter than git parses', type: 'tag', body: () => tagBody(`object ${emptyTree}\ntype tree\ntag \n`), expected: 'badTag' },
];

describe('fsckObject agrees with git index-pack --strict (receive.fsckObjects)', () => {
  for (const testCase of cases) {
    it(`${testCase.expected ? `refuses (${testCase.expected})` : 'accepts'} ${testCase.type}: ${testCase.name}`, () => {
      const body = testCase.body();
      const gitVerdict = gitStrictVerdict(source, target, testCase.type, body);
      const ours = ourVerdict(testCase.type, body);
      assert.equal(ours.id, testCase.expected);
      if (testCase.expected === undefined) {
        assert.equal(gitVerdict, undefined, `git refused what we accept: ${gitVerdict}`);
      } else {
        assert.notEqual(gitVerdict, undefined, 'git accepted what we refuse');
        // When git got as far as fsck it names the message id; its parser errors name none.
        const gitId = /: ([a-z][A-Za-z0-9]+): /.exec(gitVerdict!)?.[1];
        if (gitId !== undefined) assert.equal(gitId, testCase.expected, gitVerdict);
      }
    });
  }
});

describe('a real push to a repository with receive.fsckObjects', () => {
  it('is refused for a zero-padded file mode, as fsckObject refuses it', () => {
    const client = `${dir}/client`;
    const server = `${dir}/server.git`;
    git(dir, ['init', '-q', '-b', 'main', client]);
    git(dir, ['init', '-q', '--bare', server]);
    git(server, ['config', 'receive.fsckObjects', 'true']);
    const file = gitText(client, ['hash-object', '-w', '--stdin'], 'x\n');
    const tree = treeBody(['0100644', 'file', file]);
    const treeOid = gitText(client, ['hash-object', '-t', 'tree', '--literally', '-w', '--stdin'], tree);
    git(client, ['update-ref', 'refs/heads/main', gitText(client, ['commit-tree', treeOid, '-m', 'old mode'])]);
    const push = gitStatus(client, ['push', server, 'main']);
    assert.notEqual(push.status, 0);
    assert.match(push.stderr, /zeroPaddedFilemode/);
    assert.throws(
      () => fsckObject('tree', tree),
      (error: FsckError) => error.id === 'zeroPaddedFilemode',
    );
    // Plain `git fsck` only warns: the refusal comes from the strict mode pushes use.
    assert.equal(gitStatus(client, ['fsck']).status, 0);
  });
});

describe('fsckObject on real objects', () => {
  it('accepts every object git wrote and returns what each points to', () => {
    const repo = buildRichRepository(dir);
    const objects = allObjects(repo);
    for (const [oid, { type, body }] of objects) {
      const references = fsckObject(type, body);
      let expected: string[];
      if (type === 'commit') {
        expected = gitText(repo, [
          'rev-parse',
          `${oid}^{tree}`,
          ...gitText(repo, ['rev-list', '--parents', '-n1', oid]).split(' ').slice(1),
        ]).split('\n');
      } else if (type === 'tree') {
        expected = gitText(repo, ['ls-tree', oid])
          .split('\n')
          .filter((line) => line && !line.startsWith('160000'))
          .map((line) => line.split(/\s/)[2]);
      } else if (type === 'tag') {
        expected = [gitText(repo, ['cat-file', '-p', oid]).split('\n')[0].slice('object '.length)];
      } else {
        expected = [];
      }
      assert.deepEqual(references, expected, `${type} ${oid}`);
    }
  });

  it('says of each link the type its target has', () => {
    const objects = allObjects(buildRichRepository(tempDir({ after }, 'fsck-links')));
    let checked = 0;
    for (const [oid, { type, body }] of objects) {
      fsckObjectLinks(type, body, {
        link: (bytes, at, expected) => {
          const target = Buffer.from(bytes.subarray(at, at + 20)).toString('hex');
          assert.equal(objectTypeOfCode(expected), objects.get(target)?.type, `${type} ${oid} links to ${target}`);
          checked++;
        },
      });
    }
    assert.ok(checked > objects.size, `${checked} links checked`);
  });

  it('does not report gitlinks as references but does report odd modes git walks', () => {
    const body = Buffer.concat([
      Buffer.from('100600 a\0'),
      Buffer.alloc(20, 1),
      Buffer.from('160000 b\0'),
      Buffer.alloc(20, 2),
      Buffer.from('170000 c\0'),
      Buffer.alloc(20, 3),
    ]);
    assert.deepEqual(fsckObject('tree', body), ['01'.repeat(20)]);
  });
});
