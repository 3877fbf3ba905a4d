/**
 * Small repositories built with the real git (through the fixed identity and clock of
 * git.ts), each with the shapes the tests of several packages need.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { git, gitText } from './git.js';

/**
 * A bare repository whose `main` has `commits` commits. Each commit edits one line of a 400-line
 * file (so its versions delta against each other in long chains), overwrites 600 bytes of an
 * incompressible file (deltas whose deflated data is large), rewrites a small file and adds one
 * file in a new directory; an annotated tag points at the middle commit.
 */
export function buildHistory(dir: string, commits: number): string {
  const repo = path.join(dir, 'source.git');
  git(dir, ['init', '--quiet', '--bare', repo]);
  const chunks: Buffer[] = [];
  const data = (body: string | Buffer) => {
    const bytes = Buffer.from(body);
    chunks.push(Buffer.from(`data ${bytes.length}\n`), bytes, Buffer.from('\n'));
  };
  const lines = Array.from({ length: 400 }, (_, i) => `line ${i} of a file that changes slowly ${'x'.repeat(i % 40)}`);
  let seed = 12345;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  const noise = Buffer.from(Array.from({ length: 8192 }, random));
  for (let c = 1; c <= commits; c++) {
    lines[(c * 37) % lines.length] = `edited in commit ${c}`;
    const at = (c * 1500) % (noise.length - 600);
    for (let i = 0; i < 600; i++) noise[at + i] = random();
    const when = 1_700_000_000 + c * 60;
    chunks.push(Buffer.from(`commit refs/heads/main\nmark :${c}\n`));
    chunks.push(Buffer.from(`author Ada <ada@example.com> ${when} +0100\ncommitter Ada <ada@example.com> ${when} +0100\n`));
    data(`commit ${c}\n\nwith a body\n`);
    chunks.push(Buffer.from(`M 100644 inline big.txt\n`));
    data(lines.join('\n') + '\n');
    chunks.push(Buffer.from(`M 100644 inline noise.bin\n`));
    data(noise);
    chunks.push(Buffer.from(`M 100644 inline small.txt\n`));
    data(`small ${c}\n`);
    chunks.push(Buffer.from(`M 100755 inline dir${c % 7}/file${c}.bin\n`));
    data(Buffer.from(Array.from({ length: 64 + c }, (_, i) => (i * c) & 0xff)));
    chunks.push(Buffer.from('\n'));
    if (c === Math.ceil(commits / 2)) {
      chunks.push(Buffer.from(`tag v1\nfrom :${c}\ntagger Ada <ada@example.com> ${when} +0100\n`));
      data('release v1\n');
    }
  }
  git(repo, ['fast-import', '--quiet'], Buffer.concat(chunks));
  return repo;
}

/**
 * A bare repository with two branches that fork and merge, files in nested directories
 * (with slowly changing text that deltas well, and a few larger blobs), an annotated tag,
 * a tag of a tag, a lightweight tag and a tag on a tree. Committer dates rise by a minute
 * per commit from `1_700_000_000 + 60`.
 */
export function buildSourceRepo(dir: string, commits = 30): string {
  const repo = path.join(dir, 'source.git');
  git(dir, ['init', '--quiet', '--bare', '--initial-branch=main', repo]);
  const chunks: Buffer[] = [];
  const data = (body: string | Buffer) => {
    const bytes = Buffer.from(body);
    chunks.push(Buffer.from(`data ${bytes.length}\n`), bytes, Buffer.from('\n'));
  };
  const lines = Array.from({ length: 300 }, (_, i) => `line ${i}: ${'text '.repeat(i % 13)}`);
  let mark = 0;
  let mainMark = 0;
  let featureMark = 0;
  for (let c = 1; c <= commits; c++) {
    const onFeature = c > 10 && c % 3 === 0;
    const branch = onFeature ? 'feature' : 'main';
    lines[(c * 17) % lines.length] = `changed by commit ${c}`;
    const when = 1_700_000_000 + c * 60;
    mark++;
    chunks.push(Buffer.from(`commit refs/heads/${branch}\nmark :${mark}\n`));
    chunks.push(Buffer.from(`author A U Thor <a@example.com> ${when} +0000\ncommitter A U Thor <a@example.com> ${when} +0000\n`));
    data(`commit ${c} on ${branch}\n`);
    if (onFeature && featureMark === 0) chunks.push(Buffer.from(`from :${mainMark}\n`));
    else if (onFeature) chunks.push(Buffer.from(`from :${featureMark}\n`));
    else if (mainMark) chunks.push(Buffer.from(`from :${mainMark}\n`));
    if (!onFeature && featureMark && c % 7 === 0) chunks.push(Buffer.from(`merge :${featureMark}\n`));
    chunks.push(Buffer.from(`M 100644 inline src/deep/er/text.txt\n`));
    data(lines.join('\n'));
    chunks.push(Buffer.from(`M 100644 inline ${branch}.txt\n`));
    data(`${branch} at ${c}\n`);
    chunks.push(Buffer.from(`M 100755 inline bin/blob${c % 5}.bin\n`));
    data(Buffer.from(Array.from({ length: 2000 + c * 500 }, (_, i) => (i * 7 + c * 13) & 0xff)));
    chunks.push(Buffer.from('\n'));
    if (onFeature) featureMark = mark;
    else mainMark = mark;
    if (c === Math.min(12, commits)) {
      chunks.push(Buffer.from(`tag v1.0\nfrom :${mark}\ntagger A U Thor <a@example.com> ${when} +0000\n`));
      data('version 1.0\n');
    }
  }
  git(repo, ['fast-import', '--quiet'], Buffer.concat(chunks));
  // So that the git used as oracle offers what we offer.
  for (const key of ['allowRefInWant', 'allowFilter', 'allowSidebandAll', 'allowReachableSHA1InWant'])
    git(repo, ['config', `uploadpack.${key}`, 'true']);
  const v1 = git(repo, ['rev-parse', 'refs/tags/v1.0']).toString().trim();
  const tagOfTag = `object ${v1}\ntype tag\ntag v1.0-signed\ntagger A U Thor <a@example.com> 1700009999 +0000\n\nre-tag\n`;
  const tagOfTagId = git(repo, ['hash-object', '-t', 'tag', '-w', '--stdin'], tagOfTag).toString().trim();
  git(repo, ['update-ref', 'refs/tags/v1.0-signed', tagOfTagId]);
  git(repo, ['update-ref', 'refs/tags/light', 'refs/heads/main~3']);
  const tree = git(repo, ['rev-parse', 'main^{tree}']).toString().trim();
  const treeTag = `object ${tree}\ntype tree\ntag tree-tag\ntagger A U Thor <a@example.com> 1700009999 +0000\n\na tree\n`;
  git(repo, ['update-ref', 'refs/tags/tree-tag', git(repo, ['hash-object', '-t', 'tag', '-w', '--stdin'], treeTag).toString().trim()]);
  return repo;
}

function commitAll(repo: string, message: string, date: number): void {
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', message], undefined, { GIT_AUTHOR_DATE: `${date} +0000`, GIT_COMMITTER_DATE: `${date} +0000` });
}

function lines(count: number, seed: number): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(`line ${i} of the text ${(i * 2654435761 + seed) % 1000003}`);
  return out.join('\n') + '\n';
}

/**
 * In `dir`, a repository with history that makes git produce deltas of every kind: a text file edited
 * in many commits, a binary file patched, renames, nested trees, a ~5 MB incompressible
 * file, an annotated tag; repacked with `--depth=50` so chains are long.
 */
export function buildFixtureRepo(dir: string, options: { hugeFile?: boolean; commits?: number } = {}): string {
  const repo = path.join(dir, 'pack-repo');
  mkdirSync(repo);
  git(repo, ['init', '-q', '-b', 'main']);
  mkdirSync(path.join(repo, 'src/deep/er'), { recursive: true });
  let text = lines(4000, 1);
  const binary = randomBytes(96 * 1024);
  writeFileSync(path.join(repo, 'text.txt'), text);
  writeFileSync(path.join(repo, 'binary.bin'), binary);
  writeFileSync(path.join(repo, 'src/deep/er/a.c'), 'int main(void) { return 0; }\n');
  writeFileSync(path.join(repo, 'empty'), '');
  if (options.hugeFile !== false) writeFileSync(path.join(repo, 'huge.bin'), randomBytes(5 * 1024 * 1024));
  const date = 1_700_000_000;
  commitAll(repo, 'initial', date);
  for (let c = 1; c <= (options.commits ?? 40); c++) {
    const all = text.split('\n');
    all.splice((c * 97) % all.length, 1, `edited in commit ${c}`);
    if (c % 3 === 0) all.push(`appended ${c}`);
    text = all.join('\n');
    writeFileSync(path.join(repo, 'text.txt'), text);
    binary.writeUInt32BE(c * 7919, (c * 1021) % (binary.length - 4));
    writeFileSync(path.join(repo, 'binary.bin'), binary);
    writeFileSync(path.join(repo, `src/file-${c % 7}.txt`), lines(50 + c, c));
    if (c === 10) renameSync(path.join(repo, 'src/deep/er/a.c'), path.join(repo, 'src/deep/moved.c'));
    if (c === 20) renameSync(path.join(repo, 'text.txt'), path.join(repo, 'renamed.txt'));
    if (c >= 20) writeFileSync(path.join(repo, 'renamed.txt'), text);
    if (c === 20) rmSync(path.join(repo, 'text.txt'), { force: true });
    commitAll(repo, `commit ${c}\n\nbody of ${c}`, date + c * 60);
    if (c === 25) git(repo, ['tag', '-a', '-m', 'release 1', 'v1']);
  }
  git(repo, ['repack', '-adfq', '--depth=50', '--window=50']);
  return repo;
}

/**
 * A repository with the shapes of objects git writes: executable files, a symlink, a submodule
 * (gitlink), nested trees, a merge, signed commits and tags (gpgsig / mergetag headers from a
 * stand-in gpg), a commit in ISO-8859-1 with an `encoding` header, lightweight and annotated tags.
 */
export function buildRichRepository(dir: string): string {
  const repo = path.join(dir, 'rich');
  mkdirSync(repo);
  const fakeGpg = path.join(dir, 'fake-gpg');
  writeFileSync(
    fakeGpg,
    '#!/bin/sh\ncat >/dev/null\necho "[GNUPG:] SIG_CREATED D 1 8 00 1700000000 0" >&2\n' +
      'printf -- "-----BEGIN PGP SIGNATURE-----\\n\\niQEzBAABCAAdFiEE\\n=abcd\\n-----END PGP SIGNATURE-----\\n"\n',
  );
  chmodSync(fakeGpg, 0o755);
  const config = ['-c', `gpg.program=${fakeGpg}`, '-c', 'user.signingkey=D', '-c', 'advice.nestedTag=false'];
  const run = (args: string[], input?: string | Buffer) => git(repo, [...config, ...args], input);

  run(['init', '-q', '-b', 'main']);
  writeFileSync(path.join(repo, 'README'), 'hello\n');
  writeFileSync(path.join(repo, 'run.sh'), '#!/bin/sh\necho run\n');
  chmodSync(path.join(repo, 'run.sh'), 0o755);
  symlinkSync('README', path.join(repo, 'link'));
  mkdirSync(path.join(repo, 'src/deep'), { recursive: true });
  writeFileSync(path.join(repo, 'src/a.c'), 'int a;\n');
  writeFileSync(path.join(repo, 'src/deep/b.c'), 'int b;\n');
  writeFileSync(path.join(repo, 'src.txt'), 'sorts before src/ in git order\n');
  writeFileSync(path.join(repo, 'naïve ünïcode.txt'), 'utf-8 name\n');
  run(['add', '-A']);
  run(['update-index', '--add', '--cacheinfo', '160000,1234567890abcdef1234567890abcdef12345678,vendor/sub']);
  run(['commit', '-q', '-m', 'initial\n\nwith a body\n']);

  run(['checkout', '-q', '-b', 'side']);
  writeFileSync(path.join(repo, 'side.txt'), 'side\n');
  run(['add', 'side.txt']);
  run(['commit', '-q', '-S', '-m', 'signed commit on side']);
  run(['tag', '-s', '-m', 'signed tag', 'v-signed']);

  run(['checkout', '-q', 'main']);
  writeFileSync(path.join(repo, 'main.txt'), 'main\n');
  run(['add', 'main.txt']);
  run(['-c', 'i18n.commitEncoding=ISO-8859-1', 'commit', '-q', '-F', '-'], Buffer.from('caf\xe9 latin-1 message\n', 'latin1'));
  run(['merge', '-q', '--no-ff', '-m', 'merge side', 'side']);
  run(['checkout', '-q', 'side']);
  run(['commit', '-q', '--allow-empty', '-m', 'more on side']);
  run(['tag', '-s', '-m', 'signed tag to merge', 'v-signed-2']);
  run(['checkout', '-q', 'main']);
  // Merging a signed tag records it in a mergetag header.
  run(['merge', '-q', '--no-ff', '-m', 'merge signed tag', 'v-signed-2']);
  run(['commit', '-q', '--allow-empty', '-m', 'empty commit']);
  run(['tag', 'lightweight']);
  run(['tag', '-a', '-m', 'annotated\n\nwith a longer message', 'v1.0']);
  run(['tag', '-a', '-m', 'tag of a tag', 'v1.0-again', 'v1.0']);
  run(['tag', '-a', '-m', 'tag of a tree', 'tree-tag', 'HEAD^{tree}']);
  const blob = gitText(repo, ['rev-parse', 'HEAD:README']);
  run(['tag', '-a', '-m', 'tag of a blob', 'blob-tag', blob]);
  // Ancient tags had no tagger line; `git mktag --no-strict` still accepts one.
  const head = gitText(repo, ['rev-parse', 'HEAD']);
  const taggerless = gitText(repo, ['mktag', '--no-strict'], `object ${head}\ntype commit\ntag no-tagger\n\nold style tag\n`);
  run(['update-ref', 'refs/tags/no-tagger', taggerless]);
  return repo;
}
