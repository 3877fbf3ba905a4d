import type { ObjectId, ObjectType } from './oid.js';
import { isObjectId } from './oid.js';
import { decodeText, encodeText } from './lossless-text.js';

export interface GitObject {
  type: ObjectType;
  data: Buffer;
}

/**
 * Strings in parsed objects are the object's bytes decoded as UTF-8; bytes that are not valid
 * UTF-8 (legacy encodings) come back as lone surrogates U+DC80..U+DCFF so that serialising
 * the parsed object reproduces it byte for byte.
 */
export interface Signature {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  timestamp: number;
  /** As written, e.g. "+0200". */
  timezone: string;
}

export interface Commit {
  tree: ObjectId;
  parents: ObjectId[];
  author: Signature;
  committer: Signature;
  /** Other headers (gpgsig, encoding, mergetag…) in order, values unfolded. */
  extraHeaders: Array<[string, string]>;
  message: string;
}

export interface TreeEntry {
  /** Octal mode as written, e.g. "100644", "40000", "160000". */
  mode: string;
  name: string;
  oid: ObjectId;
}

export interface Tag {
  object: ObjectId;
  type: ObjectType;
  tag: string;
  tagger?: Signature;
  extraHeaders: Array<[string, string]>;
  message: string;
}

/** Thrown when bytes claimed to be an object do not parse as one. */
export class ObjectParseError extends Error {
  override name = 'ObjectParseError';
}

const LF = 0x0a;
const SPACE = 0x20;
const OBJECT_TYPES: readonly string[] = ['commit', 'tree', 'blob', 'tag'];

function asBuffer(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

interface Header {
  key: string;
  value: string;
}

/** The header lines (continuation lines unfolded) and the message after the blank line. */
function splitHeaders(body: Buffer, what: string): { headers: Header[]; message: string } {
  const headers: Header[] = [];
  let pos = 0;
  while (pos < body.length && body[pos] !== LF) {
    const valueStart = body.indexOf(SPACE, pos);
    let lineEnd = body.indexOf(LF, pos);
    if (lineEnd < 0) throw new ObjectParseError(`${what}: unterminated header line at byte ${pos}`);
    const keyEnd = valueStart >= 0 && valueStart < lineEnd ? valueStart : lineEnd;
    // Decoded as the value is: serializing writes the key back through encodeText.
    const key = decodeText(body, pos, keyEnd);
    // Continuation lines start with a space; the value runs to the end of the last of them.
    while (body[lineEnd + 1] === SPACE) {
      const next = body.indexOf(LF, lineEnd + 1);
      if (next < 0) throw new ObjectParseError(`${what}: unterminated header line at byte ${lineEnd + 1}`);
      lineEnd = next;
    }
    const raw = keyEnd < lineEnd ? decodeText(body, keyEnd + 1, lineEnd) : '';
    headers.push({ key, value: raw.includes('\n') ? raw.replaceAll('\n ', '\n') : raw });
    pos = lineEnd + 1;
  }
  // Git always writes the blank line; an object without one has an empty message.
  const message = pos < body.length ? decodeText(body, pos + 1) : '';
  return { headers, message };
}

function foldHeader(key: string, value: string): string {
  return `${key} ${value.replaceAll('\n', '\n ')}\n`;
}

const IDENT = /^(.*?) ?<([^<>]*)> (\d+) ([+-]\d{4})$/s;

function parseSignature(value: string, what: string): Signature {
  const match = IDENT.exec(value);
  if (!match) throw new ObjectParseError(`${what}: malformed identity "${value}"`);
  return { name: match[1], email: match[2], timestamp: Number(match[3]), timezone: match[4] };
}

function formatSignature(signature: Signature): string {
  return `${signature.name} <${signature.email}> ${signature.timestamp} ${signature.timezone}`;
}

function parseObjectIdText(value: string, what: string): ObjectId {
  if (isObjectId(value)) return value;
  // Git parses ids case-insensitively, and fsck accepts upper case.
  const lower = value.toLowerCase();
  if (isObjectId(lower)) return lower;
  throw new ObjectParseError(`${what}: "${value}" is not an object id`);
}

function requireObjectId(value: string, what: string): void {
  if (!isObjectId(value)) throw new TypeError(`${what}: "${value}" is not an object id`);
}

export function parseCommit(body: Uint8Array): Commit {
  const { headers, message } = splitHeaders(asBuffer(body), 'commit');
  let i = 0;
  if (headers[i]?.key !== 'tree') throw new ObjectParseError('commit: first header is not "tree"');
  const tree = parseObjectIdText(headers[i++].value, 'commit tree');
  const parents: ObjectId[] = [];
  while (headers[i]?.key === 'parent') parents.push(parseObjectIdText(headers[i++].value, 'commit parent'));
  if (headers[i]?.key !== 'author') throw new ObjectParseError('commit: no "author" header after tree and parents');
  const author = parseSignature(headers[i++].value, 'commit author');
  if (headers[i]?.key !== 'committer') throw new ObjectParseError('commit: no "committer" header after author');
  const committer = parseSignature(headers[i++].value, 'commit committer');
  const extraHeaders = headers.slice(i).map(({ key, value }): [string, string] => [key, value]);
  return { tree, parents, author, committer, extraHeaders, message };
}

export function serializeCommit(commit: Commit): Buffer {
  requireObjectId(commit.tree, 'commit tree');
  let text = `tree ${commit.tree}\n`;
  for (const parent of commit.parents) {
    requireObjectId(parent, 'commit parent');
    text += `parent ${parent}\n`;
  }
  // Every header value folds as parsing unfolded it: a name may hold a newline.
  text += foldHeader('author', formatSignature(commit.author)) + foldHeader('committer', formatSignature(commit.committer));
  for (const [key, value] of commit.extraHeaders) text += foldHeader(key, value);
  return encodeText(`${text}\n${commit.message}`);
}

export function parseTag(body: Uint8Array): Tag {
  const { headers, message } = splitHeaders(asBuffer(body), 'tag');
  let i = 0;
  if (headers[i]?.key !== 'object') throw new ObjectParseError('tag: first header is not "object"');
  const object = parseObjectIdText(headers[i++].value, 'tag object');
  if (headers[i]?.key !== 'type') throw new ObjectParseError('tag: no "type" header after object');
  const type = headers[i++].value;
  if (!OBJECT_TYPES.includes(type)) throw new ObjectParseError(`tag: unknown object type "${type}"`);
  if (headers[i]?.key !== 'tag') throw new ObjectParseError('tag: no "tag" header after type');
  const tag: Tag = { object, type: type as ObjectType, tag: headers[i++].value, extraHeaders: [], message };
  if (headers[i]?.key === 'tagger') tag.tagger = parseSignature(headers[i++].value, 'tag tagger');
  tag.extraHeaders = headers.slice(i).map(({ key, value }): [string, string] => [key, value]);
  return tag;
}

export function serializeTag(tag: Tag): Buffer {
  requireObjectId(tag.object, 'tag object');
  if (!OBJECT_TYPES.includes(tag.type)) throw new TypeError(`tag: unknown object type "${tag.type}"`);
  // Every header value folds as parsing unfolded it: a tag name or a tagger's name may hold a newline.
  let text = `object ${tag.object}\ntype ${tag.type}\n${foldHeader('tag', tag.tag)}`;
  if (tag.tagger) text += foldHeader('tagger', formatSignature(tag.tagger));
  for (const [key, value] of tag.extraHeaders) text += foldHeader(key, value);
  return encodeText(`${text}\n${tag.message}`);
}

export function parseTree(body: Uint8Array): TreeEntry[] {
  const bytes = asBuffer(body);
  const entries: TreeEntry[] = [];
  const entry = newTreeEntryPosition();
  let pos = 0;
  while (pos < bytes.length) {
    const entryStart = pos;
    pos = readTreeEntryAt(bytes, pos, entry);
    entries.push({
      mode: bytes.toString('latin1', entryStart, entry.nameStart - 1),
      name: decodeText(bytes, entry.nameStart, entry.nameEnd),
      oid: bytes.toString('hex', entry.nameEnd + 1, pos),
    });
  }
  return entries;
}

/** Entries in the order given (git expects them sorted as `git mktree` sorts them). */
export function serializeTree(entries: readonly TreeEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const { mode, name, oid } of entries) {
    if (!/^[0-7]+$/.test(mode)) throw new TypeError(`tree entry "${name}": mode "${mode}" is not octal`);
    requireObjectId(oid, `tree entry "${name}"`);
    const nameBytes = encodeText(name);
    if (nameBytes.length === 0 || nameBytes.includes(0)) throw new TypeError(`tree entry "${name}": name is empty or has a NUL`);
    parts.push(Buffer.from(`${mode} `, 'latin1'), nameBytes, Buffer.of(0), Buffer.from(oid, 'hex'));
  }
  return Buffer.concat(parts);
}

/** Where one tree entry lies in the tree's bytes; filled by readTreeEntryAt, reused from entry to entry. */
export interface TreeEntryPosition {
  /** The mode as a number, e.g. 0o100644, 0o40000, 0o160000; modulo 2^32, as git reads it. */
  mode: number;
  nameStart: number;
  /** The NUL after the name; the 20-byte id follows it, at nameEnd + 1. */
  nameEnd: number;
}

export function newTreeEntryPosition(): TreeEntryPosition {
  return { mode: 0, nameStart: 0, nameEnd: 0 };
}

const UINT32_RANGE = 2 ** 32;

/**
 * Reads the framing of the tree entry at `pos` (`<octal mode> <name>\0<20-byte id>`) into `entry`
 * and returns where the next entry starts; ObjectParseError when malformed. No closures or
 * strings: walks call it once per entry of every tree they visit, and read the id in place
 * at `entry.nameEnd + 1`.
 */
export function readTreeEntryAt(bytes: Uint8Array, pos: number, entry: TreeEntryPosition): number {
  const entryStart = pos;
  let mode = 0;
  let c: number;
  while ((c = bytes[pos]) !== SPACE) {
    if (c === undefined || c < 0x30 || c > 0x37) {
      throw new ObjectParseError(`tree: malformed mode in the entry at byte ${entryStart}`);
    }
    // git reads a mode into an unsigned int, so a wider one wraps: this reads what git reads
    // (and stays exact, where a plain sum would round past 2^53).
    mode = (mode * 8 + (c - 0x30)) % UINT32_RANGE;
    pos++;
  }
  if (pos === entryStart) throw new ObjectParseError(`tree: empty mode in the entry at byte ${entryStart}`);
  // Names are short: a plain loop beats indexOf's native call.
  let nameEnd = pos + 1;
  while (nameEnd < bytes.length && bytes[nameEnd] !== 0) nameEnd++;
  if (nameEnd + 21 > bytes.length) throw new ObjectParseError(`tree: truncated entry at byte ${entryStart}`);
  entry.mode = mode;
  entry.nameStart = pos + 1;
  entry.nameEnd = nameEnd;
  return nameEnd + 21;
}

/** Iterates a tree's entries without building strings for names unless asked. */
export function forEachTreeEntry(body: Uint8Array, visit: (mode: number, name: Buffer, oid: ObjectId) => void): void {
  const bytes = asBuffer(body);
  const entry = newTreeEntryPosition();
  let pos = 0;
  while (pos < bytes.length) {
    pos = readTreeEntryAt(bytes, pos, entry);
    visit(entry.mode, bytes.subarray(entry.nameStart, entry.nameEnd), bytes.toString('hex', entry.nameEnd + 1, pos));
  }
}

const TREE_PREFIX = Buffer.from('tree ', 'latin1');
const PARENT_PREFIX = Buffer.from('parent ', 'latin1');
const COMMITTER_PREFIX = Buffer.from('committer ', 'latin1');

function hasPrefixAt(bytes: Buffer, pos: number, prefix: Buffer): boolean {
  return bytes.length >= pos + prefix.length && bytes.compare(prefix, 0, prefix.length, pos, pos + prefix.length) === 0;
}

/** The id written as 40 hex digits at `start`, followed by a newline. */
function hexIdLineAt(bytes: Buffer, start: number, what: string): ObjectId {
  if (bytes[start + 40] !== LF) throw new ObjectParseError(`commit: malformed ${what} line at byte ${start}`);
  return parseObjectIdText(bytes.toString('latin1', start, start + 40), `commit ${what}`);
}

/** Cheap accessors for hot paths (walks), without a full parse. */
export function commitTreeAndParents(body: Uint8Array): { tree: ObjectId; parents: ObjectId[]; committerTime: number } {
  const bytes = asBuffer(body);
  if (!hasPrefixAt(bytes, 0, TREE_PREFIX)) throw new ObjectParseError('commit: does not start with a "tree" line');
  const tree = hexIdLineAt(bytes, TREE_PREFIX.length, 'tree');
  let pos = TREE_PREFIX.length + 41;
  const parents: ObjectId[] = [];
  while (hasPrefixAt(bytes, pos, PARENT_PREFIX)) {
    parents.push(hexIdLineAt(bytes, pos + PARENT_PREFIX.length, 'parent'));
    pos += PARENT_PREFIX.length + 41;
  }
  while (pos < bytes.length && bytes[pos] !== LF) {
    const lineEnd = bytes.indexOf(LF, pos);
    if (lineEnd < 0) break;
    if (hasPrefixAt(bytes, pos, COMMITTER_PREFIX)) {
      return { tree, parents, committerTime: identTime(bytes, pos, lineEnd) };
    }
    pos = lineEnd + 1;
  }
  throw new ObjectParseError('commit: no "committer" line');
}

/** The timestamp of an identity line `… <email> 1234567890 +0000`. */
function identTime(bytes: Buffer, lineStart: number, lineEnd: number): number {
  const emailEnd = bytes.lastIndexOf(0x3e, lineEnd);
  let pos = emailEnd + 2;
  if (emailEnd < lineStart || bytes[emailEnd + 1] !== SPACE) {
    throw new ObjectParseError(`commit: malformed committer line at byte ${lineStart}`);
  }
  let time = 0;
  const digitsStart = pos;
  for (let c = bytes[pos]; c >= 0x30 && c <= 0x39; c = bytes[++pos]) time = time * 10 + (c - 0x30);
  if (pos === digitsStart) throw new ObjectParseError(`commit: committer line without a date at byte ${lineStart}`);
  return time;
}
