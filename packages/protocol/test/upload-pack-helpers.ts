/**
 * For the upload-pack tests: a history loaded into a Repository on memory stores, and
 * `git upload-pack --stateless-rpc` run on the same history as the oracle for negotiation
 * and shallow lines.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { encodePktLine, FLUSH_PKT, DELIM_PKT, ZERO_OID } from '@gitfleet/git-format';
import { MemoryBlobStore, MemoryKVStore } from '@gitfleet/storage';
import { BlockCache, DeltaBaseCache, PackIndexCache, Repository } from '@gitfleet/repository';
import { git, gitEnv } from '@gitfleet/test-support/git';
import { TEST_PROTOCOL_LIMITS } from '@gitfleet/test-support/protocol-limits';
import { uploadPack } from '../src/index.js';
import type { ProtocolVersion } from '../src/index.js';

/** Every ref of a git repository (for-each-ref order), HEAD's target and its objects as one pack. */
export function packAll(repo: string, outDir: string): { packPath: string; packSize: number; idx: Buffer; checksum: string } {
  mkdirSync(outDir, { recursive: true });
  const checksum = git(repo, ['pack-objects', '--all', '--quiet', '--delta-base-offset', path.join(outDir, 'pack')], '')
    .toString()
    .trim();
  const packPath = path.join(outDir, `pack-${checksum}.pack`);
  return { packPath, packSize: statSync(packPath).size, idx: readFileSync(path.join(outDir, `pack-${checksum}.idx`)), checksum };
}

export function gitRefs(repo: string): Array<{ name: string; oid: string }> {
  const out = git(repo, ['for-each-ref', '--format=%(objectname) %(refname)']).toString().trim();
  return out ? out.split('\n').map((line) => ({ oid: line.slice(0, 40), name: line.slice(41) })) : [];
}

let repoCounter = 0;

/** A Repository on memory stores holding `source`'s objects (as git packs them) and refs. */
export async function loadRepository(source: string, scratch: string): Promise<Repository> {
  const stores = {
    blobs: new MemoryBlobStore(),
    kv: new MemoryKVStore(),
    cache: new BlockCache({ blockSize: 16 * 1024, maxBytes: 4 * 1024 * 1024 }),
    indexes: new PackIndexCache({ maxBytes: 16 * 1024 * 1024 }),
    deltaBases: new DeltaBaseCache({ maxBytes: 4 * 1024 * 1024 }),
  };
  const repo = new Repository(
    {
      id: `test-${process.pid}-${++repoCounter}`,
      owner: 'o',
      name: 'r',
      createdAt: new Date(0).toISOString(),
      private: false,
      description: '',
    },
    stores,
  );
  await addGitPack(repo, source, scratch);
  const updates = gitRefs(source).map((ref) => ({ name: ref.name, oldOid: ZERO_OID, newOid: ref.oid }));
  if (updates.length > 0) await repo.refs.update(updates, { atomic: true, message: 'test' });
  const head = git(source, ['symbolic-ref', 'HEAD']).toString().trim();
  await repo.refs.setHead(head);
  return repo;
}

/** Adds every object of `source` as one more pack. */
export async function addGitPack(repo: Repository, source: string, scratch: string): Promise<void> {
  const pack = packAll(source, path.join(scratch, `pack-${++repoCounter}`));
  await repo.packs.add(pack.packPath, pack.packSize, pack.idx, pack.checksum);
}

/** A request line, or one of the markers 'flush' and 'delim'. */
export type Line = string;

/** Builds a request body from lines (newline added) and 'flush' / 'delim'. */
export function request(lines: readonly Line[]): Buffer {
  return Buffer.concat(lines.map((line) => (line === 'flush' ? FLUSH_PKT : line === 'delim' ? DELIM_PKT : encodePktLine(`${line}\n`))));
}

export async function runUploadPack(repo: Repository, body: Buffer, version: ProtocolVersion): Promise<Buffer> {
  const response = await uploadPack(repo, Readable.from([body]), {
    version,
    limits: { ...TEST_PROTOCOL_LIMITS, maxPackBytes: 1 << 30, maxObjectSize: 1 << 30 },
  });
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** What `git upload-pack --stateless-rpc` answers to the same request. */
export function gitUploadPack(repo: string, body: Buffer, version: ProtocolVersion): Buffer {
  const result = spawnSync('git', ['upload-pack', '--stateless-rpc', repo], {
    input: body,
    maxBuffer: 512 * 1024 * 1024,
    env: gitEnv({ GIT_PROTOCOL: version === 0 ? '' : `version=${version}` }),
  });
  return result.stdout;
}

export interface ParsedResponse {
  /** Text lines (newline removed) and 'flush' / 'delim', in order, excluding side-band packets. */
  lines: Line[];
  /** Side-band channel 1 data concatenated (the pack), or the raw bytes after the lines. */
  pack: Buffer;
  /** Side-band channel 2 text. */
  progress: string;
  /** Side-band channel 3 text. */
  error: string;
}

/**
 * Splits a response into its text lines and its side-band channels. With `rawPackAfter`,
 * the bytes from the first "PACK" signature on are taken as a pack without side-band.
 */
export function parseResponse(bytes: Buffer, options: { sidebandAll?: boolean } = {}): ParsedResponse {
  const parsed: ParsedResponse = { lines: [], pack: Buffer.alloc(0), progress: '', error: '' };
  const pack: Buffer[] = [];
  let at = 0;
  let inPackfile = false;
  while (at < bytes.length) {
    if (bytes.subarray(at, at + 4).toString('latin1') === 'PACK') {
      pack.push(bytes.subarray(at));
      break;
    }
    const length = parseInt(bytes.subarray(at, at + 4).toString('latin1'), 16);
    if (Number.isNaN(length)) throw new Error(`bad pkt-line at ${at}`);
    if (length === 0 || length === 1 || length === 2) {
      parsed.lines.push(length === 1 ? 'delim' : 'flush');
      at += 4;
      continue;
    }
    const payload = bytes.subarray(at + 4, at + length);
    at += length;
    const band = payload[0];
    if ((inPackfile || options.sidebandAll) && band >= 1 && band <= 3) {
      if (band === 1 && !inPackfile) {
        const text = payload.subarray(1).toString().replace(/\n$/, '');
        parsed.lines.push(text);
        if (text === 'packfile') inPackfile = true;
      } else if (band === 1) pack.push(payload.subarray(1));
      else if (band === 2) parsed.progress += payload.subarray(1).toString();
      else parsed.error += payload.subarray(1).toString();
      continue;
    }
    if (band === 1 || band === 2 || band === 3) {
      inPackfile = true;
      at -= length;
      continue;
    }
    const text = payload.toString().replace(/\n$/, '');
    parsed.lines.push(text);
    if (text === 'packfile') inPackfile = true;
  }
  parsed.pack = Buffer.concat(pack);
  return parsed;
}

/**
 * Indexes `pack` into the bare repository `repoDir`, completing a thin pack from its objects.
 * `strict` (the default) also refuses links to objects that are missing, which a shallow
 * pack has by design.
 */
export function indexInto(repoDir: string, pack: Buffer, options: { strict?: boolean } = {}): string {
  const args = ['index-pack', '--stdin', '--fix-thin'];
  if (options.strict ?? true) args.push('--strict');
  return git(repoDir, args, pack).toString().trim();
}

/** Object ids `git rev-list --objects` lists for `revs` (with optional extra args). */
export function revListObjects(repo: string, args: string[]): Set<string> {
  const out = git(repo, ['rev-list', '--objects', ...args])
    .toString()
    .trim();
  return new Set(out ? out.split('\n').map((line) => line.slice(0, 40)) : []);
}

/** Object ids in a pack, from `git verify-pack` after indexing it into `repoDir`. */
export function objectsOfPack(repoDir: string, checksumLine: string): Set<string> {
  const checksum = checksumLine.replace(/^(pack|keep)\t/, '');
  const packDir = path.join(repoDir, 'objects', 'pack');
  const idx = readdirSync(packDir).find((name) => name === `pack-${checksum}.idx`);
  if (!idx) throw new Error(`no idx for ${checksum}`);
  const out = git(repoDir, ['show-index'], readFileSync(path.join(packDir, idx)))
    .toString()
    .trim();
  return new Set(out.split('\n').map((line) => line.split(' ')[1]));
}

/** The entry type codes (1-4 objects, 6 ofs-delta, 7 ref-delta) found in a pack indexed into `repoDir`. */
export function entryTypes(repoDir: string, checksumLine: string, pack: Buffer): Set<number> {
  const checksum = checksumLine.replace(/^(pack|keep)\t/, '');
  const idx = readFileSync(path.join(repoDir, 'objects', 'pack', `pack-${checksum}.idx`));
  const out = git(repoDir, ['show-index'], idx).toString().trim();
  return new Set(out.split('\n').map((line) => (pack[Number(line.split(' ')[0])] >> 4) & 7));
}
