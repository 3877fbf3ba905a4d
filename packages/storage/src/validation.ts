import type { ByteRange } from './blob-store.js';
import type { CasMode, CasOp } from './kv-store.js';
import { InvalidKeyError } from './errors.js';

// Shared by every backend so that all of them refuse exactly the same input.

const BLOB_SEGMENT = /^[A-Za-z0-9._-]{1,255}$/;
const BLOB_PREFIX = /^[A-Za-z0-9._/-]*$/;
const MAX_BLOB_KEY_LENGTH = 1024;
const KV_NAME = /^[\x21-\x7e]+$/;
const KV_PREFIX = /^[\x21-\x7e]*$/;

export function isValidBlobKeySegment(segment: string): boolean {
  return BLOB_SEGMENT.test(segment) && segment !== '.' && segment !== '..';
}

export function validateBlobKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_BLOB_KEY_LENGTH) {
    throw new InvalidKeyError(`invalid blob key ${JSON.stringify(key)}: must be 1-${MAX_BLOB_KEY_LENGTH} characters`);
  }
  for (const segment of key.split('/')) {
    if (!isValidBlobKeySegment(segment)) {
      throw new InvalidKeyError(
        `invalid blob key ${JSON.stringify(key)}: segment ${JSON.stringify(segment)} is not 1-255 of [A-Za-z0-9._-] (and not "." or "..")`,
      );
    }
  }
}

export function validateBlobPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || !BLOB_PREFIX.test(prefix)) {
    throw new InvalidKeyError(`invalid blob key prefix ${JSON.stringify(prefix)}: only [A-Za-z0-9._/-] can occur in keys`);
  }
}

export function validateByteRange(key: string, range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`blob ${key}: invalid byte range [${start}, ${end})`);
  }
}

/** The part of `range` that lies inside a blob of `size` bytes. */
export function clampRange(range: ByteRange | undefined, size: number): ByteRange {
  if (!range) return { start: 0, end: size };
  const start = Math.min(range.start, size);
  return { start, end: Math.max(start, Math.min(range.end, size)) };
}

export function validateKvName(what: 'scope' | 'key' | 'log name', name: string): void {
  if (typeof name !== 'string' || !KV_NAME.test(name)) {
    throw new InvalidKeyError(`invalid KV ${what} ${JSON.stringify(name)}: must be non-empty printable ASCII without spaces`);
  }
}

export function validateKvPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || !KV_PREFIX.test(prefix)) {
    throw new InvalidKeyError(`invalid KV key prefix ${JSON.stringify(prefix)}: must be printable ASCII without spaces`);
  }
}

export function validateCasOps(scope: string, ops: readonly CasOp[], mode: CasMode): void {
  validateKvName('scope', scope);
  if (mode !== 'all' && mode !== 'each') {
    throw new RangeError(`compareAndSwap in scope ${scope}: mode must be 'all' or 'each', got ${JSON.stringify(mode)}`);
  }
  const seen = new Set<string>();
  for (const op of ops) {
    validateKvName('key', op.key);
    if (seen.has(op.key)) {
      throw new InvalidKeyError(`compareAndSwap in scope ${scope}: key ${op.key} appears more than once`);
    }
    seen.add(op.key);
    if (op.log) validateKvName('log name', op.log.name);
    for (const key of op.requireAbsent?.keys ?? []) validateKvName('key', key);
    for (const prefix of op.requireAbsent?.prefixes ?? []) validateKvPrefix(prefix);
  }
}

export function validateLogLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
    throw new RangeError(`readLog: limit must be a non-negative integer, got ${limit}`);
  }
}
