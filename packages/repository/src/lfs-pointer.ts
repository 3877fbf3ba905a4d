/**
 * Git LFS pointer files (git-lfs's docs/spec.md): what git stores in place of a file that LFS
 * tracks. A pointer is a few "key value" lines, `version` first and the others in key order,
 * naming the object by its SHA-256 and size, and is under 1024 bytes.
 */

export interface LfsPointer {
  /** The object's SHA-256, 64 lower-case hex digits. */
  oid: string;
  size: number;
}

/** Pointer files are smaller than this: a larger blob is never read to ask. */
export const LFS_POINTER_MAX_BYTES = 1024;

const VERSIONS = new Set(['https://git-lfs.github.com/spec/v1', 'https://hawser.github.com/spec/v1']);

/** The pointer `content` is, or undefined when it is an ordinary file. */
export function parseLfsPointer(content: Buffer): LfsPointer | undefined {
  if (content.length >= LFS_POINTER_MAX_BYTES) return undefined;
  const text = content.toString('utf8');
  if (!text.startsWith('version ') || !text.endsWith('\n')) return undefined;
  const lines = text.slice(0, -1).split('\n');
  const fields = new Map<string, string>();
  let previousKey = '';
  for (const [index, line] of lines.entries()) {
    const match = /^([a-z0-9.-]+) (.*)$/.exec(line);
    if (!match) return undefined;
    const [, key, value] = match;
    // `version` leads; every other key follows in order, each once.
    if (index > 0 && (key === 'version' || key <= previousKey)) return undefined;
    if (index > 0) previousKey = key;
    fields.set(key, value);
  }
  if (!VERSIONS.has(fields.get('version') ?? '')) return undefined;
  const oid = /^sha256:([0-9a-f]{64})$/.exec(fields.get('oid') ?? '')?.[1];
  const size = fields.get('size') ?? '';
  if (!oid || !/^\d{1,15}$/.test(size)) return undefined;
  return { oid, size: Number(size) };
}
