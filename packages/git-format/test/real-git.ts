/** Git's own view of objects: every object of a repository, and its verdict on one. */
import { git, gitStatus, gitText } from '@gitfleet/test-support/git';
import type { ObjectType } from '../src/oid.js';

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
  const result = gitStatus(target, ['index-pack', '--strict', '--stdin'], { input: pack });
  if (result.status === 0) return undefined;
  return result.stderr.trim();
}
