/**
 * Real git data for the repository tests: packs written by `git pack-objects`, and the expected
 * answers from `git verify-pack`.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { git } from '@gitfleet/test-support/git';

export interface BuiltPack {
  packPath: string;
  packSize: number;
  idx: Buffer;
  checksum: string;
}

/**
 * Packs the objects `revs` selects (pack-objects --revs syntax; `--all` allowed) into `outDir`.
 * Without offsetDeltas, git writes ref-deltas only.
 */
export function packObjects(repo: string, outDir: string, revs: string[], options: { offsetDeltas: boolean; depth?: number }): BuiltPack {
  const args = ['pack-objects', '--revs', '--quiet', '--no-reuse-delta', `--depth=${options.depth ?? 50}`, '--window=50'];
  if (options.offsetDeltas) args.push('--delta-base-offset');
  // Options such as --all go on the command line; revisions are read from stdin.
  args.push(...revs.filter((r) => r.startsWith('--')), path.join(outDir, 'pack'));
  const checksum = git(repo, args, revs.filter((r) => !r.startsWith('--')).join('\n') + '\n')
    .toString()
    .trim();
  const packPath = path.join(outDir, `pack-${checksum}.pack`);
  return { packPath, packSize: statSync(packPath).size, idx: readFileSync(path.join(outDir, `pack-${checksum}.idx`)), checksum };
}

export interface PackedObject {
  oid: string;
  type: string;
  size: number;
  /** Bytes of the entry in the pack, header included. */
  packedSize: number;
  offset: number;
  depth: number;
  baseOid?: string;
}

/** Every object of a pack as `git verify-pack -v` describes it. */
export function verifyPack(pack: BuiltPack): PackedObject[] {
  const out = git(path.dirname(pack.packPath), ['verify-pack', '-v', pack.packPath]).toString();
  const objects: PackedObject[] = [];
  for (const line of out.split('\n')) {
    const fields = line.split(' ').filter(Boolean);
    if (!/^[0-9a-f]{40}$/.test(fields[0] ?? '') || fields.length < 5) continue;
    const [oid, type, size, packedSize, offset, depth, baseOid] = fields;
    objects.push({
      oid,
      type,
      size: Number(size),
      packedSize: Number(packedSize),
      offset: Number(offset),
      depth: Number(depth ?? 0),
      baseOid,
    });
  }
  return objects;
}
