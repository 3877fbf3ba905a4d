/**
 * What the journal stores, and how it is read back. Every blob is one JSON document, written
 * once (putIfAbsent) and never changed. Entries carry ABSOLUTE new values (each ref's new id,
 * HEAD's new target, a registry key's new value), never diffs: replaying an entry over a state
 * that lacks an earlier entry (a gap, see ref-journal.ts) still yields exactly what that entry
 * committed.
 */
import { isObjectId, type ObjectId } from '@gitfleet/git-format';
import { PACK_KINDS, type PackRecord } from '../keys.js';

export const JOURNAL_FORMAT = 1;

/** One committed ref transaction of a repository. */
export interface RefTransaction {
  format: typeof JOURNAL_FORMAT;
  repository: string;
  /** Committed with the refs, in the same compare-and-swap: the repository's order of transactions. */
  seq: number;
  /** ISO 8601, when it was committed. */
  time: string;
  /** Who made it (a user name), when known. */
  actor?: string;
  /** The reflog message written with it ("push", …). */
  message: string;
  /** Each ref it changed; newOid is ZERO_OID for a deletion. */
  refs: Array<{ name: string; oldOid: ObjectId; newOid: ObjectId }>;
  /** HEAD's new target, when it changed it. */
  head?: string;
  /** Checksums of the packs it made reachable (a push's pack). */
  packs?: string[];
}

/** A repository's whole ref table and pack registry as one consistent read saw them. */
export interface RefCheckpoint {
  format: typeof JOURNAL_FORMAT;
  repository: string;
  /** The last transaction the state includes. */
  seq: number;
  time: string;
  head: string;
  refs: Array<{ name: string; oid: ObjectId }>;
  packs: Array<PackRecord & { checksum: string }>;
}

/** One committed transaction of the repository registry: each key's new value (null: deleted). */
export interface RegistryEntry {
  format: typeof JOURNAL_FORMAT;
  seq: number;
  time: string;
  changes: Array<{ key: string; value: string | null }>;
}

/** The whole registry (every `repo:` key and its value) after transaction `seq`. */
export interface RegistryCheckpoint {
  format: typeof JOURNAL_FORMAT;
  seq: number;
  time: string;
  entries: Array<{ key: string; value: string }>;
}

export class CorruptJournalBlob extends Error {
  override name = 'CorruptJournalBlob';
}

export function encodeJournalBlob(value: RefTransaction | RefCheckpoint | RegistryEntry | RegistryCheckpoint): Buffer {
  return Buffer.from(JSON.stringify(value));
}

export function parseRefTransaction(bytes: Buffer, key: string): RefTransaction {
  const value = parseObject(bytes, key);
  const valid =
    hasHeader(value) &&
    typeof value.repository === 'string' &&
    typeof value.message === 'string' &&
    (value.actor === undefined || typeof value.actor === 'string') &&
    (value.head === undefined || typeof value.head === 'string') &&
    (value.packs === undefined || isStringArray(value.packs)) &&
    Array.isArray(value.refs) &&
    value.refs.every((ref) => isRecord(ref) && typeof ref.name === 'string' && isOid(ref.oldOid) && isOid(ref.newOid));
  if (!valid) throw malformed(key, 'ref transaction');
  return value as unknown as RefTransaction;
}

export function parseRefCheckpoint(bytes: Buffer, key: string): RefCheckpoint {
  const value = parseObject(bytes, key);
  const valid =
    hasHeader(value) &&
    typeof value.repository === 'string' &&
    typeof value.head === 'string' &&
    Array.isArray(value.refs) &&
    value.refs.every((ref) => isRecord(ref) && typeof ref.name === 'string' && isOid(ref.oid)) &&
    Array.isArray(value.packs) &&
    value.packs.every(
      (pack) =>
        isRecord(pack) &&
        typeof pack.checksum === 'string' &&
        Number.isSafeInteger(pack.size) &&
        Number.isSafeInteger(pack.objects) &&
        typeof pack.createdAt === 'string' &&
        PACK_KINDS.includes(pack.kind as PackRecord['kind']),
    );
  if (!valid) throw malformed(key, 'ref checkpoint');
  return value as unknown as RefCheckpoint;
}

export function parseRegistryEntry(bytes: Buffer, key: string): RegistryEntry {
  const value = parseObject(bytes, key);
  const valid =
    hasHeader(value) &&
    Array.isArray(value.changes) &&
    value.changes.every(
      (change) => isRecord(change) && typeof change.key === 'string' && (change.value === null || typeof change.value === 'string'),
    );
  if (!valid) throw malformed(key, 'registry entry');
  return value as unknown as RegistryEntry;
}

export function parseRegistryCheckpoint(bytes: Buffer, key: string): RegistryCheckpoint {
  const value = parseObject(bytes, key);
  const valid =
    hasHeader(value) &&
    Array.isArray(value.entries) &&
    value.entries.every((entry) => isRecord(entry) && typeof entry.key === 'string' && typeof entry.value === 'string');
  if (!valid) throw malformed(key, 'registry checkpoint');
  return value as unknown as RegistryCheckpoint;
}

function parseObject(bytes: Buffer, key: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new CorruptJournalBlob(`journal blob ${key} is not JSON: ${bytes.subarray(0, 100).toString('utf8')}`);
  }
  if (!isRecord(value)) throw new CorruptJournalBlob(`journal blob ${key} is not a JSON object`);
  if (value.format !== JOURNAL_FORMAT)
    throw new CorruptJournalBlob(`journal blob ${key} has format ${String(value.format)}, expected ${JOURNAL_FORMAT}`);
  return value;
}

function hasHeader(value: Record<string, unknown>): boolean {
  return Number.isSafeInteger(value.seq) && (value.seq as number) > 0 && typeof value.time === 'string';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isOid(value: unknown): boolean {
  return typeof value === 'string' && isObjectId(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function malformed(key: string, what: string): CorruptJournalBlob {
  return new CorruptJournalBlob(`journal blob ${key} is not a valid ${what}`);
}
