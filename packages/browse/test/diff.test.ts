import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RevisionNotFound, commitDiff, type FileDiff } from '../src/index.js';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { buildFixture, diffPool, git, type Fixture } from './fixture.js';

const dir = tempDir({ after }, 'browse');
let fx: Fixture;
let commits: string[];
before(async () => {
  fx = await buildFixture(dir);
  commits = git(fx.dir, ['rev-list', '--all']).trim().split('\n');
});

interface Expected {
  status: string;
  path: string;
  previousPath?: string;
  additions?: number;
  deletions?: number;
  binary: boolean;
  submodule: boolean;
}

/** What git diff-tree says of a commit against its first parent (exact renames only). */
function gitChanges(commit: string): Expected[] {
  const parent = git(fx.dir, ['rev-list', '--parents', '-n1', commit]).trim().split(' ')[1];
  const range = parent ? [parent, commit] : ['--root', commit];
  const raw = git(fx.dir, ['diff-tree', '-r', '-z', '--raw', '--numstat', '-M100%', ...range]).split('\0');
  if (!parent) raw.shift(); // --root prints the commit id first
  const statuses = new Map<string, { status: string; previousPath?: string; submodule: boolean }>();
  const result: Expected[] = [];
  let i = 0;
  while (i < raw.length && raw[i].startsWith(':')) {
    const [oldMode, newMode, , , statusLetter] = raw[i].slice(1).split(' ');
    const status = { A: 'added', D: 'removed', M: 'modified', T: 'modified', R: 'renamed' }[statusLetter[0]]!;
    const submodule = oldMode === '160000' || newMode === '160000';
    if (statusLetter[0] === 'R') {
      statuses.set(raw[i + 2], { status, previousPath: raw[i + 1], submodule });
      i += 3;
    } else {
      statuses.set(raw[i + 1], { status, submodule });
      i += 2;
    }
  }
  while (i < raw.length && raw[i] !== '') {
    const [additions, deletions, maybePath] = raw[i].split('\t');
    let path = maybePath;
    if (path === '') {
      path = raw[i + 2];
      i += 3;
    } else {
      i += 1;
    }
    const { status, previousPath, submodule } = statuses.get(path)!;
    const binary = additions === '-';
    const entry: Expected = { status, path, binary, submodule };
    if (previousPath) entry.previousPath = previousPath;
    // A submodule's change has no content here; git counts its "Subproject commit" line.
    if (!binary && !submodule) {
      entry.additions = Number(additions);
      entry.deletions = Number(deletions);
    }
    result.push(entry);
  }
  return result;
}

/** git's own hunks for one file, function context removed from the @@ lines. */
function gitPatch(commit: string, file: FileDiff): string {
  const paths = file.previousPath ? [file.previousPath, file.path] : [file.path];
  const out = git(fx.dir, ['diff', '--no-color', '--no-ext-diff', '-U3', '-M100%', `${commit}^`, commit, '--', ...paths]);
  const lines = out.split('\n');
  const first = lines.findIndex((line) => line.startsWith('@@'));
  if (first < 0) return '';
  // A path given to git also matches a directory of that name: stop at the next file.
  const next = lines.findIndex((line, i) => i > first && line.startsWith('diff --git'));
  return lines
    .slice(first, next < 0 ? undefined : next)
    .map((line) => line.replace(/^(@@ [^@]+ @@).*$/, '$1'))
    .join('\n')
    .replace(/\n$/, '');
}

function blobLines(oid: string | undefined): string[] {
  return oid === undefined ? [] : git(fx.dir, ['cat-file', 'blob', oid]).split('\n');
}

describe('commitDiff', () => {
  it('agrees with git diff-tree --numstat on every commit, and with git diff on every hunk', async () => {
    for (const commit of commits) {
      const hasParent = git(fx.dir, ['rev-list', '--parents', '-n1', commit]).trim().includes(' ');
      const diff = await commitDiff(fx.repo, commit, { pool: diffPool });
      const expected = gitChanges(commit);
      assert.equal(diff.truncated, false);
      assert.deepEqual(
        diff.files.map((f) => [f.status, f.previousPath, f.path]),
        expected.map((e) => [e.status, e.previousPath, e.path]),
        `files of ${commit}`,
      );
      let additions = 0;
      let deletions = 0;
      for (const [i, file] of diff.files.entries()) {
        const want = expected[i];
        assert.equal(file.binary, want.binary, `${file.path} binary`);
        if (want.submodule || want.binary) {
          assert.equal(file.additions + file.deletions, 0, file.path);
          if (want.binary) assert.equal(file.hunks, undefined);
          continue;
        }
        assert.equal(file.additions, want.additions, `${file.path} additions in ${commit}`);
        assert.equal(file.deletions, want.deletions, `${file.path} deletions in ${commit}`);
        additions += file.additions;
        deletions += file.deletions;
        // git diff needs a parent to name; a root commit's files are all additions.
        if (hasParent) assert.equal(file.patch, gitPatch(commit, file), `patch of ${file.path} in ${commit}`);
        // Every numbered line is the line of that file with that number.
        const [oldLines, newLines] = [blobLines(file.oldOid), blobLines(file.newOid)];
        for (const line of file.hunks!.flatMap((hunk) => hunk.lines)) {
          if (line.oldNumber !== undefined)
            assert.equal(line.text, oldLines[line.oldNumber - 1], `${file.path} old line ${line.oldNumber}`);
          if (line.newNumber !== undefined)
            assert.equal(line.text, newLines[line.newNumber - 1], `${file.path} new line ${line.newNumber}`);
          assert.equal(line.kind === 'add' ? 1 : 0, line.oldNumber === undefined ? 1 : 0);
        }
      }
      assert.equal(diff.additions, additions);
      assert.equal(diff.deletions, deletions);
    }
  });

  it('shows a rename, a submodule, a binary, CRLF text and a file turned directory', async () => {
    const renameCommit = git(fx.dir, ['rev-parse', 'feature~1']).trim();
    const renamed = (await commitDiff(fx.repo, renameCommit, { pool: diffPool })).files;
    const rename = renamed.find((f) => f.status === 'renamed')!;
    assert.deepEqual(
      [rename.previousPath, rename.path, rename.additions, rename.deletions, rename.hunks],
      ['docs/guide.txt', 'docs/manual.txt', 0, 0, []],
    );
    const crlf = renamed.find((f) => f.path === 'crlf.txt')!;
    assert.equal(crlf.patch, '@@ -1,3 +1,3 @@\n first\r\n-second\r\n+SECOND\r\n third\r');

    const mainFiles = (await commitDiff(fx.repo, git(fx.dir, ['rev-parse', 'main~2']).trim(), { pool: diffPool })).files;
    const submodule = mainFiles.find((f) => f.path === 'vendor/lib')!;
    assert.deepEqual([submodule.status, submodule.newOid, submodule.hunks], ['added', 'a'.repeat(40), []]);
    const binary = mainFiles.find((f) => f.path === 'logo.bin')!;
    assert.deepEqual([binary.status, binary.binary, binary.patch], ['modified', true, undefined]);

    const last = (await commitDiff(fx.repo, git(fx.dir, ['rev-parse', 'main']).trim(), { pool: diffPool })).files;
    assert.deepEqual(
      last.map((f) => `${f.status} ${f.path}`),
      ['removed empty.txt', 'removed no-newline.txt', 'added no-newline.txt/inside.txt', 'modified src/app.js'],
    );
    const gone = last.find((f) => f.path === 'no-newline.txt')!;
    assert.equal(gone.patch, '@@ -1,3 +0,0 @@\n-one\n-two\n-three\n\\ No newline at end of file');
  });

  it('keeps within its limits', async () => {
    const root = git(fx.dir, ['rev-list', '--max-parents=0', 'main']).trim();
    const all = await commitDiff(fx.repo, root, { pool: diffPool });
    const few = await commitDiff(fx.repo, root, { pool: diffPool, limits: { maxFiles: 2 } });
    assert.equal(few.truncated, true);
    assert.deepEqual(few.files, all.files.slice(0, 2));

    const small = await commitDiff(fx.repo, root, { pool: diffPool, limits: { maxFileBytes: 20 } });
    for (const file of small.files) {
      const size = Number(git(fx.dir, ['cat-file', '-s', file.newOid!]).trim());
      assert.equal(file.tooLarge === true, size > 20, file.path);
      if (file.tooLarge) assert.deepEqual([file.additions, file.deletions, file.hunks], [0, 0, undefined]);
    }

    const short = await commitDiff(fx.repo, root, { pool: diffPool, limits: { maxLines: 1 } });
    assert.deepEqual(short.files[0], all.files[0]);
    assert.ok(short.files.slice(1).every((f) => f.tooLarge && f.hunks === undefined && f.additions === 0));
    assert.deepEqual(
      short.files.map((f) => f.path),
      all.files.map((f) => f.path),
    );
    assert.equal(short.additions, all.files[0].additions);
  });

  it('refuses what is not a commit', async () => {
    await assert.rejects(commitDiff(fx.repo, git(fx.dir, ['rev-parse', 'main^{tree}']).trim(), { pool: diffPool }), RevisionNotFound);
  });
});
