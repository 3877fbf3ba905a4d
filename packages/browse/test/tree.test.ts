import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PathNotFound, RevisionNotFound, findReadme, readFile, readTree, statPath } from '../src/index.js';
import { git as gitBytes } from '@gitfleet/test-support/git';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { buildFixture, git, type Fixture } from './fixture.js';

const dir = tempDir({ after }, 'browse');
let fx: Fixture;
let main: string;
before(async () => {
  fx = await buildFixture(dir);
  main = git(fx.dir, ['rev-parse', 'main']).trim();
});

/** `git ls-tree -l` of a directory as TreeItems, directories first then by name. */
function lsTree(commit: string, path: string) {
  const out = git(fx.dir, ['ls-tree', '-l', '-z', commit, ...(path ? [`${path}/`] : [])]);
  const items = out
    .split('\0')
    .filter(Boolean)
    .map((record) => {
      const [meta, fullPath] = record.split('\t');
      const [mode, type, oid, size] = meta.split(/ +/);
      const item: Record<string, unknown> = { name: fullPath.split('/').pop(), path: fullPath, mode: mode.replace(/^0/, ''), type, oid };
      if (size !== '-') item.size = Number(size);
      return item;
    });
  const dirsFirst = (t: unknown) => (t === 'tree' ? 0 : 1);
  return items.sort(
    (a, b) => dirsFirst(a.type) - dirsFirst(b.type) || Buffer.compare(Buffer.from(a.name as string), Buffer.from(b.name as string)),
  );
}

describe('readTree', () => {
  it('lists directories as git ls-tree -l does, directories first', async () => {
    const cases: Array<[string, string]> = [
      ['main', ''],
      ['main', 'src'],
      ['main', 'dossier'],
      ['main', 'no-newline.txt'],
      ['main', 'vendor'],
      ['feature', 'docs'],
      ['v1.0', ''],
    ];
    for (const [revision, path] of cases) {
      const commit = git(fx.dir, ['rev-parse', `${revision}^{commit}`]).trim();
      assert.deepEqual(await readTree(fx.repo, commit, path), { entries: lsTree(commit, path), truncated: false }, `${revision}:${path}`);
    }
    const root = (await readTree(fx.repo, main, '/')).entries;
    assert.equal(root.find((item) => item.name === 'vendor')?.type, 'tree');
    const submodule = (await readTree(fx.repo, main, 'vendor')).entries[0];
    assert.deepEqual(submodule, { name: 'lib', path: 'vendor/lib', mode: '160000', type: 'commit', oid: 'a'.repeat(40) });
    assert.equal(root.find((item) => item.name === 'script.sh')?.mode, '100755');
  });

  it('refuses a missing path, a file and a commit that is not one', async () => {
    await assert.rejects(readTree(fx.repo, main, 'nope'), (e: Error) => e instanceof PathNotFound && /no path nope/.test(e.message));
    await assert.rejects(
      readTree(fx.repo, main, 'README.md'),
      (e: Error) => e instanceof PathNotFound && /not a directory/.test(e.message),
    );
    await assert.rejects(readTree(fx.repo, main, 'README.md/x'), PathNotFound);
    await assert.rejects(readTree(fx.repo, 'd'.repeat(40), ''), RevisionNotFound);
  });
});

describe('statPath', () => {
  it('describes files, directories, submodules and the root', async () => {
    const readme = await statPath(fx.repo, main, 'README.md');
    assert.deepEqual(
      readme,
      lsTree(main, '').find((item) => item.name === 'README.md'),
    );
    const src = await statPath(fx.repo, main, 'src/');
    assert.equal(src.type, 'tree');
    assert.equal(src.oid, git(fx.dir, ['rev-parse', 'main:src']).trim());
    assert.equal((await statPath(fx.repo, main, 'vendor/lib')).type, 'commit');
    const root = await statPath(fx.repo, main, '');
    assert.deepEqual(root, { name: '', path: '', mode: '40000', type: 'tree', oid: git(fx.dir, ['rev-parse', 'main^{tree}']).trim() });
    assert.equal((await statPath(fx.repo, main, 'dossier/été.txt')).oid, git(fx.dir, ['rev-parse', 'main:dossier/été.txt']).trim());
    await assert.rejects(statPath(fx.repo, main, 'src/nope.js'), PathNotFound);
  });
});

describe('readFile', () => {
  it('returns the content git cat-file gives, with the binary heuristic and truncation', async () => {
    for (const path of ['README.md', 'crlf.txt', '日本語.md', 'logo.bin', 'script.sh', 'no-newline.txt/inside.txt', 'src/app.js']) {
      const file = await readFile(fx.repo, main, path);
      const raw = gitBytes(fx.dir, ['cat-file', 'blob', `main:${path}`]);
      assert.ok(file.content.equals(raw), path);
      assert.equal(file.size, raw.length);
      assert.equal(file.truncated, false);
      assert.equal(file.binary, raw.includes(0), path);
      assert.equal(file.path, path);
      assert.equal(file.oid, git(fx.dir, ['rev-parse', `main:${path}`]).trim());
    }
    assert.equal((await readFile(fx.repo, main, 'logo.bin')).binary, true);
    const cut = await readFile(fx.repo, main, 'src/app.js', { maxBytes: 10 });
    assert.equal(cut.content.toString(), 'const line');
    assert.equal(cut.truncated, true);
    assert.ok(cut.size > 10);
  });

  it('refuses directories, submodules and missing paths', async () => {
    await assert.rejects(readFile(fx.repo, main, 'src'), (e: Error) => e instanceof PathNotFound && /is a directory/.test(e.message));
    await assert.rejects(readFile(fx.repo, main, ''), PathNotFound);
    await assert.rejects(readFile(fx.repo, main, 'vendor/lib'), (e: Error) => e instanceof PathNotFound && /submodule/.test(e.message));
    await assert.rejects(readFile(fx.repo, main, 'docs/guide.txt/x'), PathNotFound);
  });
});

describe('findReadme', () => {
  it('finds the README of the root and of directories, case-insensitively', async () => {
    const readme = await findReadme(fx.repo, main);
    assert.equal(readme?.path, 'README.md');
    assert.equal(readme?.size, (await statPath(fx.repo, main, 'README.md')).size);
    assert.equal(await findReadme(fx.repo, main, 'src'), undefined);
    await assert.rejects(findReadme(fx.repo, main, 'missing'), PathNotFound);
  });
});
