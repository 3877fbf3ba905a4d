/**
 * git's pack_name_hash (pack-objects.h): a number that sorts paths by their last sixteen
 * non-whitespace bytes, which pack-objects uses to pick delta candidates and the `.bitmap`
 * name-hash cache stores per object. Whitespace is git's own set: tab, newline, CR, space.
 */
export function packNameHash(path: string | Uint8Array): number {
  const bytes = typeof path === 'string' ? Buffer.from(path, 'utf8') : path;
  let hash = 0;
  for (const byte of bytes) {
    if (byte === 0x09 || byte === 0x0a || byte === 0x0d || byte === 0x20) continue;
    hash = ((hash >>> 2) + ((byte << 24) >>> 0)) >>> 0;
  }
  return hash;
}
