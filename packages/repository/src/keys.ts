/**
 * Where a repository keeps its state: the one place that knows the key layout.
 *
 * KV store
 * - scope `registry` (global):
 *     `repo:<owner>/<name>` → JSON RepositoryInfo. Owner and name are lower-cased in the key so
 *     that, as on GitHub, `Foo/Bar` and `foo/bar` are one repository; the info keeps the spelling.
 * - scope `repo:<id>` (one per repository; a clustered backend keeps a scope on one shard, so a
 *   multi-ref compare-and-swap stays one atomic step):
 *     `ref:<refname>`     → object id (40 hex)
 *     `symref:HEAD`       → target ref name, e.g. `refs/heads/main` (may be unborn)
 *     `pack:<checksum>`   → JSON PackRecord {size, objects, createdAt}
 *     log `reflog:<refname>` → JSON ReflogEntry per applied update, oldest first;
 *       `timestamp` is milliseconds since the epoch.
 *
 * Blob store
 *   `repos/<id>/packs/pack-<checksum>.pack` and `.idx` — immutable, named by the pack's SHA-1.
 *
 * Repository ids are random (a UUID without dashes): renaming or transferring a repository only
 * rewrites its registry entry, never its refs or packs.
 *
 * KV keys are printable ASCII without spaces, but git allows any UTF-8 in ref names; ref names
 * are therefore escaped in keys: '%' and every byte outside 0x21–0x7e become `%XX`. Valid ref
 * names have no spaces or control characters, so only '%' and non-ASCII are ever escaped, and the
 * escaping of a prefix is a prefix of the escaping, which keeps prefix scans correct.
 */
import { randomUUID } from 'node:crypto';

export const REGISTRY_SCOPE = 'registry';
export const HEAD_KEY = 'symref:HEAD';
export const REF_KEY_PREFIX = 'ref:';
export const PACK_KEY_PREFIX = 'pack:';
export const REPO_KEY_PREFIX = 'repo:';
const REFLOG_PREFIX = 'reflog:';

/** What the registry of a repository's packs records about one pack. */
export interface PackRecord {
  size: number;
  objects: number;
  /** ISO 8601. */
  createdAt: string;
}

export function newRepositoryId(): string {
  return randomUUID().replace(/-/g, '');
}

export function repositoryScope(repositoryId: string): string {
  return `repo:${repositoryId}`;
}

export function registryKey(owner: string, name: string): string {
  return `${REPO_KEY_PREFIX}${owner.toLowerCase()}/${name.toLowerCase()}`;
}

export function refKey(refName: string): string {
  return REF_KEY_PREFIX + escapeKeyPart(refName);
}

export function refNameFromKey(key: string): string {
  return unescapeKeyPart(key.slice(REF_KEY_PREFIX.length));
}

export function reflogName(refName: string): string {
  return REFLOG_PREFIX + escapeKeyPart(refName);
}

export function packKey(checksum: string): string {
  return PACK_KEY_PREFIX + checksum;
}

export function packBlobKey(repositoryId: string, checksum: string): string {
  return `repos/${repositoryId}/packs/pack-${checksum}.pack`;
}

export function idxBlobKey(repositoryId: string, checksum: string): string {
  return `repos/${repositoryId}/packs/pack-${checksum}.idx`;
}

export function escapeKeyPart(value: string): string {
  if (/^[\x21-\x24\x26-\x7e]*$/.test(value)) return value;
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    out +=
      byte >= 0x21 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function unescapeKeyPart(value: string): string {
  if (!value.includes('%')) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '%') {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(value.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
