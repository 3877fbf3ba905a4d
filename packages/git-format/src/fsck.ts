import type { ObjectId, ObjectType } from './oid.js';
import { isHfsDotGit, isHfsDotGitmodules, isNtfsDotGit, isNtfsDotGitmodules } from './dotgit-names.js';
import { FileMode, MODE_TYPE_MASK, MODE_TYPE_REGULAR } from './file-mode.js';
import { PACK_TYPE } from './pack/entry.js';

/*
 * A port of the checks git 2.39 runs on pushed objects with receive.fsckObjects: index-pack and
 * unpack-objects parse each object, then run fsck.c with `strict` set, which turns fsck's
 * warnings into errors while its "info" messages (badFilemode, badTagName, missingTaggerEntry,
 * the .gitattributes/.gitignore/.mailmap symlink checks) and extraHeaderEntry stay ignored.
 * Messages are git's, prefixed with git's message id.
 *
 * The content of blobs that trees name .gitmodules is checked by the caller once every object
 * is known (git's fsck_finish): fsckObjectLinks hands their ids over, gitmodules.ts checks them.
 * Checks that need other objects are the caller's too: each link comes with the type the
 * linking object says its target has (git's check_object in index-pack). Not covered: the
 * .gitattributes blob content checks.
 */

/** An object that git's `receive.fsckObjects` would refuse; `id` is git's fsck message id (e.g. "badTimezone"). */
export class FsckError extends Error {
  override name = 'FsckError';
  readonly id: string;

  constructor(id: string, detail: string) {
    super(`${id}: ${detail}`);
    this.id = id;
  }
}

const NUL = 0x00;
const LF = 0x0a;
const SPACE = 0x20;

/** Type code (PACK_TYPE: commit 1, tree 2, blob 3, tag 4) a link says its target has. */
export type LinkedTypeCode = 1 | 2 | 3 | 4;

/**
 * Receives each id an object points to as 20 binary bytes at `bytes[at..at+20)` (a view, valid
 * only during the call), with the type its linking object expects: a commit's tree is a tree,
 * its parents commits, a tree entry's mode says tree or blob, a tag's "type" line names its
 * object's type. No hex string per tree entry.
 */
export interface LinkSink {
  link(bytes: Uint8Array, at: number, expected: LinkedTypeCode): void;
}

/** Receives ids as LinkSink does, without a type: e.g. a binary id set's addBytes. */
export interface IdSink {
  addBytes(bytes: Uint8Array, at: number): unknown;
}

/**
 * Checks one object as `git fsck` does (headers, signatures, tree entry modes, names and
 * order, tag fields). Returns the ids this object points to (tree, parents, entries, tagged object)
 * so that callers can check connectivity; throws FsckError when it is malformed.
 */
export function fsckObject(type: ObjectType, body: Uint8Array): ObjectId[] {
  const references: ObjectId[] = [];
  fsckObjectLinks(type, body, {
    link: (bytes, at) => {
      references.push(Buffer.from(bytes.buffer, bytes.byteOffset + at, 20).toString('hex'));
    },
  });
  return references;
}

/**
 * fsckObject for hot paths: the ids the object points to go to `links`, in the same order.
 * When it throws, `links` may have been given some of the ids already. A tree's entries
 * named .gitmodules (as any filesystem may read the name) go to `gitmodules` too: git checks
 * those blobs' content (checkGitmodules) once it has them.
 */
export function fsckObjectLinks(type: ObjectType, body: Uint8Array, links: LinkSink, gitmodules?: IdSink): void {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  switch (type) {
    case 'commit':
      return fsckCommit(bytes, links);
    case 'tree':
      return fsckTree(bytes, links, gitmodules);
    case 'tag':
      return fsckTag(bytes, links);
    case 'blob':
      return;
    default:
      throw new FsckError('unknownType', `unknown type '${String(type)}'`);
  }
}

/** Byte at `i`, or 0 past the end: git reads objects as NUL-terminated buffers. */
function at(bytes: Buffer, i: number): number {
  return i < bytes.length ? bytes[i] : 0;
}

function startsWithAt(bytes: Buffer, pos: number, prefix: string): boolean {
  if (pos + prefix.length > bytes.length) return false;
  for (let k = 0; k < prefix.length; k++) if (bytes[pos + k] !== prefix.charCodeAt(k)) return false;
  return true;
}

/** Where hexIdAt decodes an id: links are handed over as views, so one buffer serves every call. */
const decodedId = Buffer.alloc(20);

/** Decodes 40 hex digits (either case, as git's parser takes them) at `pos` into decodedId; false if not hex. */
function hexIdAt(bytes: Buffer, pos: number): boolean {
  if (pos + 40 > bytes.length) return false;
  for (let k = 0; k < 20; k++) {
    const high = hexValue(bytes[pos + 2 * k]);
    const low = hexValue(bytes[pos + 2 * k + 1]);
    if (high < 0 || low < 0) return false;
    decodedId[k] = (high << 4) | low;
  }
  return true;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function verifyHeaders(bytes: Buffer): void {
  const headerEnd = bytes.indexOf('\n\n');
  const nul = bytes.indexOf(NUL);
  if (nul >= 0 && (headerEnd < 0 || nul < headerEnd)) {
    throw new FsckError('nulInHeader', `unterminated header: NUL at offset ${nul}`);
  }
  // Without a body the last header line must still end with a newline.
  if (headerEnd < 0 && (bytes.length === 0 || bytes[bytes.length - 1] !== LF)) {
    throw new FsckError('unterminatedHeader', 'unterminated header');
  }
}

/** Length of the run of bytes from `pos` that are none of `stops` (and not past the end). */
function spanUntil(bytes: Buffer, pos: number, stops: readonly number[]): number {
  let end = pos;
  while (end < bytes.length && !stops.includes(bytes[end])) end++;
  return end - pos;
}

const ANGLES_OR_LF = [0x3c, 0x3e, LF];
const TWO_POW_63 = 1n << 63n;
const TWO_POW_64 = 1n << 64n;

function isCSpace(c: number): boolean {
  return c === SPACE || (c >= 0x09 && c <= 0x0d);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function identError(id: string, what: string): never {
  throw new FsckError(id, `invalid author/committer line - ${what}`);
}

/**
 * Checks `Name <email> 1234567890 +0000\n` from `start` (git's fsck_ident); returns where the next line starts.
 * The date is read like C's strtoumax (leading white space, an optional sign), as git reads it.
 */
function checkIdent(bytes: Buffer, start: number): number {
  const lineEnd = bytes.indexOf(LF, start);
  const next = lineEnd < 0 ? bytes.length : lineEnd + 1;
  let p = start;
  if (at(bytes, p) === 0x3c) identError('missingNameBeforeEmail', 'missing space before email');
  p += spanUntil(bytes, p, ANGLES_OR_LF);
  if (at(bytes, p) === 0x3e) identError('badName', 'bad name');
  if (at(bytes, p) !== 0x3c) identError('missingEmail', 'missing email');
  if (at(bytes, p - 1) !== SPACE) identError('missingSpaceBeforeEmail', 'missing space before email');
  p++;
  p += spanUntil(bytes, p, ANGLES_OR_LF);
  if (at(bytes, p) !== 0x3e) identError('badEmail', 'bad email');
  p++;
  if (at(bytes, p) !== SPACE) identError('missingSpaceBeforeDate', 'missing space before date');
  p++;
  if (at(bytes, p) === 0x30 && at(bytes, p + 1) !== SPACE) identError('zeroPaddedDate', 'zero-padded date');

  let q = p;
  while (isCSpace(at(bytes, q))) q++;
  const negative = at(bytes, q) === 0x2d;
  if (negative || at(bytes, q) === 0x2b) q++;
  const digitsStart = q;
  while (isDigit(at(bytes, q))) q++;
  const end = q > digitsStart ? q : p;
  // Up to 15 digits cannot overflow; longer dates are checked exactly.
  if (q - digitsStart > 15 || (negative && q > digitsStart)) {
    const magnitude = BigInt(bytes.toString('latin1', digitsStart, q));
    const value = magnitude >= TWO_POW_64 ? TWO_POW_64 - 1n : negative ? (TWO_POW_64 - magnitude) % TWO_POW_64 : magnitude;
    // Git's timestamps are unsigned 64-bit and must also fit a signed 64-bit time_t.
    if (value >= TWO_POW_63) identError('badDateOverflow', 'date causes integer overflow');
  }
  if (end === p || at(bytes, end) !== SPACE) identError('badDate', 'bad date');
  p = end + 1;
  const sign = at(bytes, p);
  if (
    (sign !== 0x2b && sign !== 0x2d) ||
    !isDigit(at(bytes, p + 1)) ||
    !isDigit(at(bytes, p + 2)) ||
    !isDigit(at(bytes, p + 3)) ||
    !isDigit(at(bytes, p + 4)) ||
    at(bytes, p + 5) !== LF
  ) {
    identError('badTimezone', 'bad time zone');
  }
  return next;
}

function fsckCommit(bytes: Buffer, links: LinkSink): void {
  verifyHeaders(bytes);
  if (!startsWithAt(bytes, 0, 'tree ')) throw new FsckError('missingTree', "invalid format - expected 'tree' line");
  if (!hexIdAt(bytes, 5) || at(bytes, 45) !== LF) {
    throw new FsckError('badTreeSha1', "invalid 'tree' line format - bad sha1");
  }
  links.link(decodedId, 0, PACK_TYPE.tree);
  let pos = 46;
  while (startsWithAt(bytes, pos, 'parent ')) {
    if (!hexIdAt(bytes, pos + 7) || at(bytes, pos + 47) !== LF) {
      throw new FsckError('badParentSha1', "invalid 'parent' line format - bad sha1");
    }
    links.link(decodedId, 0, PACK_TYPE.commit);
    pos += 48;
  }
  let authors = 0;
  while (startsWithAt(bytes, pos, 'author ')) {
    authors++;
    pos = checkIdent(bytes, pos + 7);
  }
  if (authors < 1) throw new FsckError('missingAuthor', "invalid format - expected 'author' line");
  if (authors > 1) throw new FsckError('multipleAuthors', "invalid format - multiple 'author' lines");
  if (!startsWithAt(bytes, pos, 'committer ')) {
    throw new FsckError('missingCommitter', "invalid format - expected 'committer' line");
  }
  checkIdent(bytes, pos + 10);
  if (bytes.indexOf(NUL) >= 0) throw new FsckError('nulInCommit', 'NUL byte in the commit object body');
}

const TAG_TYPES = new Map<string, LinkedTypeCode>([
  ['commit', PACK_TYPE.commit],
  ['tree', PACK_TYPE.tree],
  ['blob', PACK_TYPE.blob],
  ['tag', PACK_TYPE.tag],
]);

function fsckTag(bytes: Buffer, links: LinkSink): void {
  verifyHeaders(bytes);
  if (!startsWithAt(bytes, 0, 'object ')) throw new FsckError('missingObject', "invalid format - expected 'object' line");
  // Decoded now, handed over once the whole tag has passed.
  const object = hexIdAt(bytes, 7) ? Buffer.from(decodedId) : undefined;
  if (object === undefined || at(bytes, 47) !== LF) {
    throw new FsckError('badObjectSha1', "invalid 'object' line format - bad sha1");
  }
  let pos = 48;
  if (!startsWithAt(bytes, pos, 'type ')) throw new FsckError('missingTypeEntry', "invalid format - expected 'type' line");
  pos += 5;
  const typeEnd = bytes.indexOf(LF, pos);
  if (typeEnd < 0) throw new FsckError('missingType', "invalid format - unexpected end after 'type' line");
  const taggedType = TAG_TYPES.get(bytes.toString('latin1', pos, typeEnd));
  if (taggedType === undefined) throw new FsckError('badType', "invalid 'type' value");
  pos = typeEnd + 1;
  if (!startsWithAt(bytes, pos, 'tag ')) throw new FsckError('missingTagEntry', "invalid format - expected 'tag' line");
  const nameEnd = bytes.indexOf(LF, pos + 4);
  if (nameEnd < 0) throw new FsckError('missingTag', "invalid format - unexpected end after 'type' line");
  // git's tag parser (run before fsck) refuses anything shorter, whatever fsck would say.
  if (bytes.length < 64) throw new FsckError('badTag', 'invalid tag: shorter than 64 bytes');
  pos = nameEnd + 1;
  // A tag name that is no valid ref name and a missing tagger are only "info" in git.
  if (startsWithAt(bytes, pos, 'tagger ')) checkIdent(bytes, pos + 7);
  links.link(object, 0, taggedType);
}

type TreeName = { bytes: Buffer; start: number; end: number };

function badTree(why: string): never {
  throw new FsckError('badTree', `cannot be parsed as a tree: ${why}`);
}

/**
 * Checks a tree's entries (git's fsck_tree with decode_tree_entry's framing checks) and returns
 * the ids of its blobs and subtrees; git treats every other mode as a submodule commit, not walked.
 */
function fsckTree(bytes: Buffer, links: LinkSink, gitmodules: IdSink | undefined): void {
  // Git validates once that the byte before the last id is the NUL ending the last name.
  const length = bytes.length;
  if (length > 0 && (length < 23 || bytes[length - 21] !== NUL)) badTree('too-short tree object');

  let hasNullSha1 = false;
  let hasFullPath = false;
  let hasDot = false;
  let hasDotdot = false;
  let hasDotgit = false;
  let hasZeroPad = false;
  let hasDuplicates = false;
  let notSorted = false;
  let previousMode = 0;
  // Two name records, swapped each entry: no allocation per entry (candidates keep copies).
  let previousName: TreeName = { bytes, start: 0, end: 0 };
  let name: TreeName = { bytes, start: 0, end: 0 };
  const candidates: TreeName[] = [];

  let pos = 0;
  while (pos < length) {
    const entryStart = pos;
    if (bytes[pos] === SPACE) badTree(`malformed mode in tree entry at byte ${entryStart}`);
    let rawMode = 0;
    for (let c = bytes[pos]; c !== SPACE; c = bytes[++pos]) {
      if (c === undefined || c < 0x30 || c > 0x37) badTree(`malformed mode in tree entry at byte ${entryStart}`);
      rawMode = ((rawMode << 3) | (c - 0x30)) >>> 0;
    }
    const nameStart = pos + 1;
    let nameEnd = nameStart;
    let separators = 0;
    for (let c = bytes[nameEnd]; nameEnd < length && c !== NUL; c = bytes[++nameEnd]) {
      if (c === 0x2f || c === 0x5c) separators |= c === 0x2f ? 1 : 2;
    }
    if (nameEnd === nameStart) badTree(`empty filename in tree entry at byte ${entryStart}`);
    if (nameEnd + 21 > length) badTree(`too-short tree object at byte ${entryStart}`);
    name.start = nameStart;
    name.end = nameEnd;
    const oidStart = nameEnd + 1;
    // fsck_tree keeps the mode in an unsigned short.
    const mode = rawMode & 0xffff;
    const isSymlink = (mode & MODE_TYPE_MASK) === FileMode.Symlink;

    hasNullSha1 ||= bytes[oidStart] === 0 && isNullId(bytes, oidStart);
    hasZeroPad ||= bytes[entryStart] === 0x30;
    // Only these first bytes can start ".", "..", or a name some filesystem reads as .git or
    // .gitmodules (each check below refuses any other at once): most names skip them all.
    const first = bytes[nameStart];
    if (first === 0x2e || (first | 0x20) === 0x67 || first === 0xe2 || first === 0xef) {
      hasDot ||= nameEnd - nameStart === 1 && first === 0x2e;
      hasDotdot ||= nameEnd - nameStart === 2 && first === 0x2e && bytes[nameStart + 1] === 0x2e;
      hasDotgit ||= isHfsDotGit(name) || isNtfsDotGit(name);
      if (isHfsDotGitmodules(name) || isNtfsDotGitmodules(name)) noteGitmodules(isSymlink, bytes, oidStart, gitmodules);
    }
    if (separators & 1) hasFullPath = true;
    if (separators & 2) {
      for (let i = nameStart; i < nameEnd; i++) {
        if (bytes[i] !== 0x5c) continue;
        // Git also reads a backslash as a directory separator, as Windows does.
        const component: TreeName = { bytes, start: i + 1, end: nameEnd };
        hasDotgit ||= isNtfsDotGit(component);
        if (isNtfsDotGitmodules(component)) noteGitmodules(isSymlink, bytes, oidStart, gitmodules);
      }
    }

    if (entryStart > 0) {
      const order = verifyOrdered(previousMode, previousName, mode, name, candidates);
      if (order === 'unordered') notSorted = true;
      else if (order === 'duplicate') hasDuplicates = true;
    }
    previousMode = mode;
    const spare = previousName;
    previousName = name;
    name = spare;

    const kind = rawMode & MODE_TYPE_MASK;
    if (kind === FileMode.Dir) links.link(bytes, oidStart, PACK_TYPE.tree);
    else if (kind === MODE_TYPE_REGULAR || kind === FileMode.Symlink) links.link(bytes, oidStart, PACK_TYPE.blob);
    pos = oidStart + 20;
  }

  if (hasNullSha1) throw new FsckError('nullSha1', 'contains entries pointing to null sha1');
  if (hasFullPath) throw new FsckError('fullPathname', 'contains full pathnames');
  if (hasDot) throw new FsckError('hasDot', "contains '.'");
  if (hasDotdot) throw new FsckError('hasDotdot', "contains '..'");
  if (hasDotgit) throw new FsckError('hasDotgit', "contains '.git'");
  if (hasZeroPad) throw new FsckError('zeroPaddedFilemode', 'contains zero-padded file modes');
  if (hasDuplicates) throw new FsckError('duplicateEntries', 'contains duplicate file entries');
  if (notSorted) throw new FsckError('treeNotSorted', 'not properly sorted');
}

/** fsck_tree: a .gitmodules must not be a symbolic link; anything else so named gets its content checked later. */
function noteGitmodules(isSymlink: boolean, bytes: Buffer, oidStart: number, gitmodules: IdSink | undefined): void {
  if (isSymlink) throw new FsckError('gitmodulesSymlink', '.gitmodules is a symbolic link');
  gitmodules?.addBytes(bytes, oidStart);
}

function isNullId(bytes: Buffer, start: number): boolean {
  for (let k = start; k < start + 20; k++) if (bytes[k] !== 0) return false;
  return true;
}

/** memcmp of `length` bytes; tree names are short, so a loop beats Buffer.compare's call overhead. */
function compareBytes(a: Buffer, aStart: number, b: Buffer, bStart: number, length: number): number {
  for (let k = 0; k < length; k++) {
    const d = a[aStart + k] - b[bStart + k];
    if (d !== 0) return d;
  }
  return 0;
}

function byteAt(name: TreeName, i: number): number {
  const index = name.start + i;
  return index < name.end ? name.bytes[index] : 0;
}

function isLessThanSlash(c: number): boolean {
  return c > 0 && c < 0x2f;
}

/** Whether `name` starts with `prefix`; returns the length of `prefix` if so, else -1. */
function prefixLength(name: TreeName, prefix: TreeName): number {
  const length = prefix.end - prefix.start;
  if (name.end - name.start < length) return -1;
  return compareBytes(name.bytes, name.start, prefix.bytes, prefix.start, length) === 0 ? length : -1;
}

/**
 * Git's tree order: names compare bytewise with a directory's name followed by "/". Also
 * catches duplicates that this order separates ("foo", "foo.bar", "foo/"), keeping the
 * non-directory candidates on a stack as git's verify_ordered does.
 */
function verifyOrdered(
  mode1: number,
  name1: TreeName,
  mode2: number,
  name2: TreeName,
  candidates: TreeName[],
): 'ordered' | 'unordered' | 'duplicate' {
  const length1 = name1.end - name1.start;
  const length2 = name2.end - name2.start;
  const common = Math.min(length1, length2);
  const cmp = compareBytes(name1.bytes, name1.start, name2.bytes, name2.start, common);
  if (cmp < 0) return 'ordered';
  if (cmp > 0) return 'unordered';
  let c1 = byteAt(name1, common);
  let c2 = byteAt(name2, common);
  if (c1 === 0 && c2 === 0) return 'duplicate';
  if (c1 === 0 && (mode1 & MODE_TYPE_MASK) === FileMode.Dir) c1 = 0x2f;
  if (c2 === 0 && (mode2 & MODE_TYPE_MASK) === FileMode.Dir) c2 = 0x2f;

  if (c1 === 0 && isLessThanSlash(c2)) {
    candidates.push({ ...name1 });
  } else if (c2 === 0x2f && isLessThanSlash(c1)) {
    for (let candidate = candidates.pop(); candidate; candidate = candidates.pop()) {
      const length = prefixLength(name2, candidate);
      if (length < 0) continue;
      const rest = byteAt(name2, length);
      if (rest === 0) return 'duplicate';
      if (isLessThanSlash(rest)) {
        candidates.push(candidate);
        break;
      }
    }
  }
  return c1 < c2 ? 'ordered' : 'unordered';
}
