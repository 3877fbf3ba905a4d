/*
 * Names that some filesystem would treat as ".git" or ".gitmodules", ported from git 2.39's
 * path.c (is_ntfs_dot*) and utf8.c (is_hfs_dot*). Names are byte ranges of a tree object; reads
 * past `end` see 0, mirroring the NUL-terminated strings git works on.
 */

type Name = { bytes: Uint8Array; start: number; end: number };

function at(name: Name, i: number): number {
  const index = name.start + i;
  return index < name.end ? name.bytes[index] : 0;
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/** Case-insensitive match of ASCII `needle` at offset `i` (like strncasecmp, stops at a NUL). */
function matchesAt(name: Name, i: number, needle: string): boolean {
  for (let k = 0; k < needle.length; k++) {
    if (lower(at(name, i + k)) !== needle.charCodeAt(k)) return false;
  }
  return true;
}

/** NTFS ignores trailing spaces and periods, and everything from an alternate stream's ':'. */
function onlySpacesAndPeriodsFrom(name: Name, i: number, stopAtDirSep: boolean): boolean {
  for (;;) {
    const c = at(name, i++);
    if (c === 0 || c === 0x3a /* : */) return true;
    if (stopAtDirSep && (c === 0x2f || c === 0x5c)) return true;
    if (c !== 0x20 && c !== 0x2e) return false;
  }
}

/** ".git", "git~1" (its 8.3 short name), with trailing spaces/periods or an alternate stream. */
export function isNtfsDotGit(name: Name): boolean {
  if (at(name, 0) === 0x2e /* . */) {
    if (!matchesAt(name, 1, 'git')) return false;
    return onlySpacesAndPeriodsFrom(name, 4, true);
  }
  if (lower(at(name, 0)) === 0x67 /* g */) {
    if (!matchesAt(name, 1, 'it') || at(name, 3) !== 0x7e /* ~ */ || at(name, 4) !== 0x31 /* 1 */) return false;
    return onlySpacesAndPeriodsFrom(name, 5, true);
  }
  return false;
}

function isNtfsDotGeneric(name: Name, dotgitName: string, shortNamePrefix: string): boolean {
  // Every form starts with "." or with the needle's (or its short name's) first letter.
  const first = lower(at(name, 0));
  if (first !== 0x2e && first !== dotgitName.charCodeAt(0) && first !== shortNamePrefix.charCodeAt(0)) return false;
  if (at(name, 0) === 0x2e && matchesAt(name, 1, dotgitName)) {
    return onlySpacesAndPeriodsFrom(name, dotgitName.length + 1, false);
  }
  // A regular NTFS short name: the first six characters, then ~1 … ~4.
  const tilde = at(name, 7);
  if (matchesAt(name, 0, dotgitName.slice(0, 6)) && at(name, 6) === 0x7e && tilde >= 0x31 && tilde <= 0x34) {
    return onlySpacesAndPeriodsFrom(name, 8, false);
  }
  // The fall-back short name NTFS derives from a hash of the long name.
  let sawTilde = false;
  for (let i = 0; i < 8; i++) {
    const c = at(name, i);
    if (c === 0) return false;
    if (sawTilde) {
      if (c < 0x30 || c > 0x39) return false;
    } else if (c === 0x7e) {
      const digit = at(name, ++i);
      if (digit < 0x31 || digit > 0x39) return false;
      sawTilde = true;
    } else if (i >= 6 || c & 0x80 || lower(c) !== shortNamePrefix.charCodeAt(i)) {
      return false;
    }
  }
  return onlySpacesAndPeriodsFrom(name, 8, false);
}

export function isNtfsDotGitmodules(name: Name): boolean {
  return isNtfsDotGeneric(name, 'gitmodules', 'gi7eba');
}

/** Code points HFS+ ignores when comparing names. */
function isHfsIgnorable(codePoint: number): boolean {
  return (
    (codePoint >= 0x200c && codePoint <= 0x200f) ||
    (codePoint >= 0x202a && codePoint <= 0x202e) ||
    (codePoint >= 0x206a && codePoint <= 0x206f) ||
    codePoint === 0xfeff
  );
}

function cont(b: number): boolean {
  return (b & 0xc0) === 0x80;
}

/** Decodes one UTF-8 character as git's pick_one_utf8_char does: [code point, length], length 0 when invalid. */
function utf8At(name: Name, i: number): [number, number] {
  const s0 = at(name, i);
  const s1 = at(name, i + 1);
  const s2 = at(name, i + 2);
  const s3 = at(name, i + 3);
  if (s0 < 0x80) return [s0, 1];
  if ((s0 & 0xe0) === 0xc0) {
    if (!cont(s1) || (s0 & 0xfe) === 0xc0) return [0, 0];
    return [((s0 & 0x1f) << 6) | (s1 & 0x3f), 2];
  }
  if ((s0 & 0xf0) === 0xe0) {
    if (
      !cont(s1) ||
      !cont(s2) ||
      (s0 === 0xe0 && (s1 & 0xe0) === 0x80) ||
      (s0 === 0xed && (s1 & 0xe0) === 0xa0) ||
      (s0 === 0xef && s1 === 0xbf && (s2 & 0xfe) === 0xbe)
    ) {
      return [0, 0];
    }
    return [((s0 & 0x0f) << 12) | ((s1 & 0x3f) << 6) | (s2 & 0x3f), 3];
  }
  if ((s0 & 0xf8) === 0xf0) {
    if (!cont(s1) || !cont(s2) || !cont(s3) || (s0 === 0xf0 && (s1 & 0xf0) === 0x80) || (s0 === 0xf4 && s1 > 0x8f) || s0 > 0xf4) {
      return [0, 0];
    }
    return [((s0 & 0x07) << 18) | ((s1 & 0x3f) << 12) | ((s2 & 0x3f) << 6) | (s3 & 0x3f), 4];
  }
  return [0, 0];
}

/** The next code point from `cursor.i` that HFS+ does not ignore; 0 at the end or at invalid UTF-8. */
function nextHfsChar(name: Name, cursor: { i: number }): number {
  for (;;) {
    const [codePoint, length] = utf8At(name, cursor.i);
    if (length === 0) return 0;
    cursor.i += length;
    if (!isHfsIgnorable(codePoint)) return codePoint;
  }
}

/** Case-insensitive "." + needle, ignoring HFS+-ignorable code points; invalid UTF-8 reads as the end. */
function isHfsDotGeneric(name: Name, needle: string): boolean {
  // Only a "." or the lead byte of an ignorable code point (U+200C…, U+FEFF) can start a match.
  const first = at(name, 0);
  if (first !== 0x2e && first !== 0xe2 && first !== 0xef) return false;
  const cursor = { i: 0 };
  if (nextHfsChar(name, cursor) !== 0x2e) return false;
  for (let k = 0; k < needle.length; k++) {
    const c = nextHfsChar(name, cursor);
    if (c > 127 || lower(c) !== needle.charCodeAt(k)) return false;
  }
  const c = nextHfsChar(name, cursor);
  return c === 0 || c === 0x2f;
}

export function isHfsDotGit(name: Name): boolean {
  return isHfsDotGeneric(name, 'git');
}

export function isHfsDotGitmodules(name: Name): boolean {
  return isHfsDotGeneric(name, 'gitmodules');
}
