/** Test helpers: a repository built by the real git CLI, and git's own verdict on objects. */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObjectType } from '../src/oid.js';

const baseEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'A U Thor',
  GIT_AUTHOR_EMAIL: 'author@example.com',
  GIT_AUTHOR_DATE: '1700000000 +0130',
  GIT_COMMITTER_NAME: 'C O Mitter',
  GIT_COMMITTER_EMAIL: 'committer@example.com',
  GIT_COMMITTER_DATE: '1700000100 -0700',
};

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `gitfleet-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function git(cwd: string, args: string[], input?: string | Buffer, env: Record<string, string> = {}): Buffer {
  return execFileSync('git', args, {
    cwd,
    input,
    env: { ...baseEnv, HOME: cwd, ...env },
    maxBuffer: 1 << 28,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export function gitText(cwd: string, args: string[], input?: string | Buffer, env?: Record<string, string>): string {
  return git(cwd, args, input, env).toString('utf8').trim();
}

export interface StoredObject {
  type: ObjectType;
  body: Buffer;
}

/** Every object of the repository, read with `git cat-file --batch-all-objects --batch`. */
export function allObjects(repo: string): Map<string, StoredObject> {
  const out = git(repo, ['cat-file', '--batch-all-objects', '--batch']);
  const objects = new Map<string, StoredObject>();
  let pos = 0;
  while (pos < out.length) {
    const headerEnd = out.indexOf(0x0a, pos);
    const [oid, type, size] = out.toString('latin1', pos, headerEnd).split(' ');
    const start = headerEnd + 1;
    objects.set(oid, { type: type as ObjectType, body: out.subarray(start, start + Number(size)) });
    pos = start + Number(size) + 1;
  }
  return objects;
}

/**
 * A repository with the shapes of objects git writes: executable files, a symlink, a submodule
 * (gitlink), nested trees, a merge, signed commits and tags (gpgsig / mergetag headers from a
 * stand-in gpg), a commit in ISO-8859-1 with an `encoding` header, lightweight and annotated tags.
 */
export function buildRichRepository(dir: string): string {
  const repo = join(dir, 'rich');
  mkdirSync(repo);
  const fakeGpg = join(dir, 'fake-gpg');
  writeFileSync(
    fakeGpg,
    '#!/bin/sh\ncat >/dev/null\necho "[GNUPG:] SIG_CREATED D 1 8 00 1700000000 0" >&2\n' +
      'printf -- "-----BEGIN PGP SIGNATURE-----\\n\\niQEzBAABCAAdFiEE\\n=abcd\\n-----END PGP SIGNATURE-----\\n"\n',
  );
  chmodSync(fakeGpg, 0o755);
  const config = ['-c', `gpg.program=${fakeGpg}`, '-c', 'user.signingkey=D', '-c', 'advice.nestedTag=false'];
  const run = (args: string[], input?: string | Buffer) => git(repo, [...config, ...args], input);

  run(['init', '-q', '-b', 'main']);
  writeFileSync(join(repo, 'README'), 'hello\n');
  writeFileSync(join(repo, 'run.sh'), '#!/bin/sh\necho run\n');
  chmodSync(join(repo, 'run.sh'), 0o755);
  symlinkSync('README', join(repo, 'link'));
  mkdirSync(join(repo, 'src/deep'), { recursive: true });
  writeFileSync(join(repo, 'src/a.c'), 'int a;\n');
  writeFileSync(join(repo, 'src/deep/b.c'), 'int b;\n');
  writeFileSync(join(repo, 'src.txt'), 'sorts before src/ in git order\n');
  writeFileSync(join(repo, 'naïve ünïcode.txt'), 'utf-8 name\n');
  run(['add', '-A']);
  run(['update-index', '--add', '--cacheinfo', '160000,1234567890abcdef1234567890abcdef12345678,vendor/sub']);
  run(['commit', '-q', '-m', 'initial\n\nwith a body\n']);

  run(['checkout', '-q', '-b', 'side']);
  writeFileSync(join(repo, 'side.txt'), 'side\n');
  run(['add', 'side.txt']);
  run(['commit', '-q', '-S', '-m', 'signed commit on side']);
  run(['tag', '-s', '-m', 'signed tag', 'v-signed']);

  run(['checkout', '-q', 'main']);
  writeFileSync(join(repo, 'main.txt'), 'main\n');
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

/** An object as it would come in a push: its bytes written with no checks. */
export function writeLiteral(repo: string, type: string, body: Buffer): string {
  return gitText(repo, ['hash-object', '-t', type, '--literally', '-w', '--stdin'], body);
}

/**
 * What `receive.fsckObjects` does with this object: git's index-pack --strict (what receive-pack
 * runs) reads a one-object pack made from `source`, in `target` where its references exist.
 * Returns undefined when accepted, else git's message (with its fsck id when it gave one).
 */
export function gitStrictVerdict(source: string, target: string, type: string, body: Buffer): string | undefined {
  const oid = writeLiteral(source, type, body);
  const pack = git(source, ['pack-objects', '--stdout'], `${oid}\n`);
  const result = spawnSync('git', ['index-pack', '--strict', '--stdin'], { cwd: target, input: pack, env: { ...baseEnv, HOME: target } });
  if (result.status === 0) return undefined;
  return result.stderr.toString('utf8').trim();
}
