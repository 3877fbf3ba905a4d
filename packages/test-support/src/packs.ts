/** Packs for tests: what git stores (read back with `git cat-file`), and hand-made packs of shapes git never writes. */
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { encodeEntryHeader, PackWriter, type ObjectType } from '@gitfleet/git-format';
import { git } from './git.js';

/** Every object's type and content as `git cat-file --batch` gives them. */
export function catFile(repo: string, oids: readonly string[]): Map<string, { type: ObjectType; data: Buffer }> {
  const out = git(repo, ['cat-file', '--batch'], oids.join('\n') + '\n');
  const objects = new Map<string, { type: ObjectType; data: Buffer }>();
  let p = 0;
  while (p < out.length) {
    const nl = out.indexOf(10, p);
    const [oid, type, size] = out.toString('latin1', p, nl).split(' ');
    if (type === 'missing') throw new Error(`git cat-file: ${oid} missing`);
    const data = out.subarray(nl + 1, nl + 1 + Number(size));
    objects.set(oid, { type: type as ObjectType, data: Buffer.from(data) });
    p = nl + 1 + Number(size) + 1;
  }
  return objects;
}

export function sha1Object(type: ObjectType, data: Uint8Array): string {
  return createHash('sha1').update(`${type} ${data.length}\0`).update(data).digest('hex');
}

export type RawEntry =
  | { kind: 'object'; type: ObjectType; data: Buffer; declaredSize?: number }
  | { kind: 'ofs-delta'; distance: number; delta: Buffer }
  | { kind: 'ref-delta'; baseOid: string; delta: Buffer };

/** A hand-made pack: entries written with PackWriter, for shapes git never produces. */
export function buildPack(entries: RawEntry[]): Buffer {
  const writer = new PackWriter(entries.length);
  const chunks: Buffer[] = [writer.header()];
  for (const entry of entries) {
    const body = entry.kind === 'object' ? entry.data : entry.delta;
    const size = entry.kind === 'object' ? (entry.declaredSize ?? body.length) : body.length;
    const header =
      entry.kind === 'object'
        ? encodeEntryHeader({ kind: 'object', type: entry.type, size })
        : entry.kind === 'ofs-delta'
          ? encodeEntryHeader({ kind: 'ofs-delta', size, distance: entry.distance })
          : encodeEntryHeader({ kind: 'ref-delta', size, baseOid: entry.baseOid });
    chunks.push(...writer.entry(header, zlib.deflateSync(body)));
  }
  chunks.push(writer.trailer());
  return Buffer.concat(chunks);
}

/** A pack edited in place gets a fresh trailer, so that only the edit is wrong with it. */
export function withFreshTrailer(pack: Buffer): Buffer {
  const body = pack.subarray(0, pack.length - 20);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}
