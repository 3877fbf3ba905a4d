import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FsckError, fsckObjectLinks } from '../src/fsck.js';
import { checkGitmodules, isValidSubmoduleName, isValidSubmoduleUrl, parseGitConfig } from '../src/gitmodules.js';
import { git, gitStatus } from '@gitfleet/test-support/git';
import { tempDir } from '@gitfleet/test-support/temp-dir';

function refusal(text: string): string | undefined {
  try {
    checkGitmodules(Buffer.from(text, 'latin1'));
    return undefined;
  } catch (error) {
    assert.ok(error instanceof FsckError, `FsckError, got ${(error as Error).stack}`);
    return error.id;
  }
}

const submodule = (name: string, lines: string[]) => `[submodule "${name}"]\n${lines.map((l) => `\t${l}\n`).join('')}`;

/** Refused since git 2.44 (submodule-config.c: strengthen URL fsck check), by url_normalize. */
const SINCE_GIT_2_44 = new Set(['a url with a bad %-escape']);

/** .gitmodules contents and the fsck message id git refuses them with (undefined: accepted). */
const CASES: Array<[string, string, string | undefined]> = [
  ['an ordinary submodule', submodule('lib', ['path = lib', 'url = https://example.com/lib.git']), undefined],
  ['a name that climbs out of .git/modules', submodule('../../modules/evil', ['path = evil', 'url = ./evil']), 'gitmodulesName'],
  ['".." as a backslash-separated component', submodule('a\\\\..\\\\b', ['path = x', 'url = ./x']), 'gitmodulesName'],
  ['a bare ".." name', submodule('..', ['path = x']), 'gitmodulesName'],
  ['dots that are no component', submodule('a..b/..c', ['path = x', 'url = ./x']), undefined],
  ['a url that is an option', submodule('x', ['path = x', 'url = --upload-pack=touch /tmp/pwned']), 'gitmodulesUrl'],
  ['a relative url escaping to a host part', submodule('x', ['path = x', 'url = ../../:example.com/x']), 'gitmodulesUrl'],
  ['a url with an encoded newline', submodule('x', ['path = x', 'url = https://example.com/%0a/x']), 'gitmodulesUrl'],
  ['a relative url with an encoded newline', submodule('x', ['path = x', 'url = ./x%0Ay']), 'gitmodulesUrl'],
  ['an http:: url git-remote-curl cannot normalize', submodule('x', ['path = x', 'url = http::example.com/x']), 'gitmodulesUrl'],
  ['a url with a bad %-escape', submodule('x', ['path = x', 'url = https://example.com/%zz']), 'gitmodulesUrl'],
  ['a url over ssh', submodule('x', ['path = x', 'url = git@example.com:x.git']), undefined],
  ['a path that is an option', submodule('x', ['path = -x', 'url = ./x']), 'gitmodulesPath'],
  ['a quoted path that is an option', submodule('x', ['path = "--x"', 'url = ./x']), 'gitmodulesPath'],
  ['an update command', submodule('x', ['path = x', 'update = !rm -rf /']), 'gitmodulesUpdate'],
  ['an evil url after a continuation line', `[submodule "x"]\n\tpath = x \\\n  y\n\turl = -evil\n`, 'gitmodulesUrl'],
  ['an evil name in the old [section.name] syntax', '[submodule...]\n\turl = ./x\n', 'gitmodulesName'],
  ['an evil entry before a syntax error', `${submodule('../x', ['url = ./x'])}[broken\n`, 'gitmodulesName'],
  ['a syntax error before an evil entry (gitmodulesParse is info only)', `[broken\n${submodule('../x', ['url = ./x'])}`, undefined],
  ['a key without value', submodule('x', ['url']), undefined],
];

describe('.gitmodules content checks (fsck.c fsck_gitmodules_fn)', () => {
  for (const [what, text, id] of CASES) {
    test(`${what}: ${id ?? 'accepted'}`, () => assert.equal(refusal(text), id));
  }

  test('submodule names and urls as submodule-config.c judges them', () => {
    assert.equal(isValidSubmoduleName(''), false);
    assert.equal(isValidSubmoduleName('a/../b'), false);
    assert.equal(isValidSubmoduleName('a/..'), false);
    assert.equal(isValidSubmoduleName('a/...'), true);
    assert.equal(isValidSubmoduleUrl('../../sub.git'), true);
    assert.equal(isValidSubmoduleUrl('.././/sub'), false);
    assert.equal(isValidSubmoduleUrl('https://example.com:0/x'), false);
    assert.equal(isValidSubmoduleUrl('https://[::1]:8080/x'), true);
    assert.equal(isValidSubmoduleUrl('https://example.com/a/../../x'), false);
  });

  test('the config parser reads quotes, escapes, comments and subsections as git does', () => {
    const entries: Array<[string, string | undefined]> = [];
    const ok = parseGitConfig(
      Buffer.from(
        '\ufeff# comment\n[Submodule "A \\"q\\" b"]\n  URL = " spaced " value ; comment\n  flag\n\tpath=a\\tb\n'.replace(
          '\ufeff',
          '\xef\xbb\xbf',
        ),
        'latin1',
      ),
      (variable, value) => entries.push([variable, value]),
    );
    assert.equal(ok, true);
    assert.deepEqual(entries, [
      ['submodule.A "q" b.url', ' spaced  value'],
      ['submodule.A "q" b.flag', undefined],
      ['submodule.A "q" b.path', 'a\tb'],
    ]);
  });

  test('fsckObjectLinks hands over the ids of tree entries named .gitmodules, as any filesystem may spell it', () => {
    const id = (byte: number) => Buffer.alloc(20, byte);
    const entry = (mode: string, name: string, oid: Buffer) => Buffer.concat([Buffer.from(`${mode} ${name}\0`), oid]);
    const tree = Buffer.concat([entry('100644', '.GitModules', id(1)), entry('100644', 'a', id(2)), entry('100644', 'gitmod~1', id(3))]);
    const found: string[] = [];
    fsckObjectLinks(
      'tree',
      tree,
      { link: () => undefined },
      { addBytes: (bytes, at) => found.push(Buffer.from(bytes.subarray(at, at + 20)).toString('hex')) },
    );
    assert.deepEqual(found, [id(1).toString('hex'), id(3).toString('hex')]);
  });
});

describe('.gitmodules checks agree with git index-pack --strict (receive.fsckObjects)', () => {
  const dir = tempDir({ after }, 'gitmodules');
  before(() => {
    git(dir, ['init', '-q', '--bare', 'target.git']);
    git(dir, ['init', '-q', '--bare', 'source.git']);
  });

  const [major, minor] = git('.', ['version'])
    .toString()
    .match(/(\d+)\.(\d+)/)!
    .slice(1)
    .map(Number);
  const gitIsOlder = major < 2 || (major === 2 && minor < 44);
  for (const [what, text, id] of CASES) {
    test(what, { skip: gitIsOlder && SINCE_GIT_2_44.has(what) ? `git ${major}.${minor} predates this check` : false }, () => {
      const source = `${dir}/source.git`;
      const blob = git(source, ['hash-object', '-w', '--stdin'], text).toString().trim();
      const tree = git(source, ['mktree'], `100644 blob ${blob}\t.gitmodules\n`).toString().trim();
      const pack = git(source, ['pack-objects', '--stdout'], `${tree}\n${blob}\n`);
      const real = gitStatus(`${dir}/target.git`, ['index-pack', '--strict', '--stdin'], { input: pack });
      const gitId = /\(([a-zA-Z]+)\):|: ([a-zA-Z]+):/.exec(real.stderr);
      if (id === undefined) assert.equal(real.status, 0, real.stderr);
      else assert.equal(gitId?.[1] ?? gitId?.[2], id, real.stderr);
    });
  }
});
