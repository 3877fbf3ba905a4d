import { randomBytes } from 'node:crypto';
import { constants, statSync, type Stats } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import { fsyncDirectory } from '../fsync-directory.js';
import { StorageFull, isOutOfSpace } from '../errors.js';
import type { BlobAges } from '../blob-ages.js';
import type { BlobBody, BlobInfo, BlobStore, ByteRange } from '../blob-store.js';
import { clampRange, isValidBlobKeySegment, validateBlobKey, validateBlobPrefix, validateByteRange } from '../validation.js';

/**
 * Bodies larger than this are not written when their key already exists: for those a stat first
 * is cheaper than the copy it may save. Smaller ones go straight to link(2), which finds an
 * existing key as surely (EEXIST).
 */
const CHECK_FIRST_BYTES = 1024 * 1024;

/** Read size of getStream: large sequential reads, at a bounded cost in memory per open stream. */
const STREAM_CHUNK_BYTES = 1024 * 1024;

/**
 * Temp files live here, under the root so that link(2) stays on one filesystem. The name
 * holds a character no key segment may contain, so list() never shows it.
 */
const TEMP_DIR = '~tmp';
/** Temp files older than this are leftovers of a crashed writer, whoever wrote them. */
const STALE_TEMP_MS = 24 * 60 * 60 * 1000;
/** A character host names do not have: it ends the host part of a temp file's name. */
const WRITER_SEPARATOR = '~';

/**
 * Blobs as files under a root directory; a key's segments are its path.
 *
 * putIfAbsent writes a temp file, fsyncs it, then link(2)s it to the final name: link
 * never replaces an existing file, so of racing writers (in any process) exactly one wins,
 * and the name appears only once its bytes are complete and durable. Empty directories
 * left by delete() are kept: removing them would race with a writer linking into them.
 */
export class FsBlobStore implements BlobStore, BlobAges {
  private constructor(private readonly root: string) {}

  /** Opens (creating if needed) a store rooted at `root` and drops stale temp files. */
  static async open(root: string): Promise<FsBlobStore> {
    const absoluteRoot = resolve(root);
    await mkdir(join(absoluteRoot, TEMP_DIR), { recursive: true });
    const store = new FsBlobStore(absoluteRoot);
    await store.removeStaleTempFiles();
    return store;
  }

  async putIfAbsent(key: string, body: BlobBody): Promise<boolean> {
    validateBlobKey(key);
    const target = this.pathOf(key);
    const directory = dirname(target);
    if (bodySize(body) > CHECK_FIRST_BYTES && (await isFile(target))) {
      await fsyncDirectory(directory);
      return false;
    }
    const temp = join(this.root, TEMP_DIR, tempFileName());
    try {
      await writeDurably(key, temp, body);
      const { created, firstCreated } = await linkCreatingDirectories(key, temp, target);
      await fsyncDirectories(directory, firstCreated);
      return created;
    } catch (error) {
      if (isOutOfSpace(error)) throw new StorageFull(`blob store ${this.root}: no space left to write blob ${key}`, { cause: error });
      throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Buffer | undefined> {
    validateBlobKey(key);
    if (range) validateByteRange(key, range);
    const opened = await this.openBlob(key);
    if (!opened) return undefined;
    const { handle, size } = opened;
    try {
      const { start, end } = clampRange(range, size);
      const buffer = Buffer.allocUnsafe(end - start);
      let filled = 0;
      while (filled < buffer.length) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, start + filled);
        if (bytesRead === 0) throw new Error(`blob ${key}: file ended at ${start + filled}, expected ${size} bytes`);
        filled += bytesRead;
      }
      return buffer;
    } finally {
      await handle.close();
    }
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable | undefined> {
    validateBlobKey(key);
    if (range) validateByteRange(key, range);
    const opened = await this.openBlob(key);
    if (!opened) return undefined;
    const { start, end } = clampRange(range, opened.size);
    if (start === end) {
      await opened.handle.close();
      return Readable.from([]);
    }
    // createReadStream's `end` is inclusive; the stream closes the handle when done. Chunks of
    // STREAM_CHUNK_BYTES rather than node's 64 KiB: streaming a pack (a clone, a packfile URI)
    // costs a read and a stream event per chunk (60 MB took 0.15 s of CPU at 64 KiB, 0.06 s at
    // 1 MiB; git.git's clone pack, 326 MB, a median 1.7 s of CPU at 256 KiB, 1.3 s at 1 MiB).
    return opened.handle.createReadStream({ start, end: end - 1, highWaterMark: STREAM_CHUNK_BYTES });
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    validateBlobKey(key);
    const stats = await stat(this.pathOf(key)).catch(absentAsUndefined);
    return stats?.isFile() ? { key, size: stats.size } : undefined;
  }

  /** The file's modification time: a blob's file is written once, before its name appears. */
  async writtenAt(key: string): Promise<number | undefined> {
    validateBlobKey(key);
    const stats = await stat(this.pathOf(key)).catch(absentAsUndefined);
    return stats?.isFile() ? stats.mtimeMs : undefined;
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    validateBlobPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const directoryKey = prefix.slice(0, slash + 1);
    const namePrefix = prefix.slice(slash + 1);
    // A prefix whose directory part is no valid key path matches no key (and must not
    // walk outside the root, e.g. "../").
    const directorySegments = directoryKey.split('/').slice(0, -1);
    if (!directorySegments.every(isValidBlobKeySegment)) return;
    yield* this.walk(directoryKey, namePrefix);
  }

  async delete(key: string): Promise<void> {
    validateBlobKey(key);
    await unlink(this.pathOf(key)).catch((error: NodeJS.ErrnoException) => {
      // EISDIR/EPERM: the key names a directory of other keys, so no blob to remove.
      if (!['ENOENT', 'ENOTDIR', 'EISDIR', 'EPERM'].includes(error.code ?? '')) {
        throw new Error(`blob ${key}: cannot delete: ${error.message}`, { cause: error });
      }
    });
  }

  async close(): Promise<void> {}

  private pathOf(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  /**
   * Yields blobs under directory `directoryKey` (ending in '/' or empty) whose first
   * segment starts with `namePrefix`, in key order. Sorting a directory's entries by name,
   * with '/' appended to subdirectory names, is exactly key order: '/' sorts after
   * '-' and '.' but before digits and letters, as in the full keys.
   */
  private async *walk(directoryKey: string, namePrefix: string): AsyncGenerator<BlobInfo> {
    const entries = await readdir(join(this.root, ...directoryKey.split('/')), { withFileTypes: true }).catch(absentAsUndefined);
    if (!entries) return;
    const candidates = entries
      .filter((entry) => entry.name.startsWith(namePrefix) && isValidBlobKeySegment(entry.name))
      .filter((entry) => entry.isFile() || entry.isDirectory())
      .map((entry) => ({ entry, sortName: entry.isDirectory() ? `${entry.name}/` : entry.name }))
      .sort((a, b) => (a.sortName < b.sortName ? -1 : a.sortName > b.sortName ? 1 : 0));
    for (let start = 0; start < candidates.length; start += STATS_PER_TURN) {
      // A listing's sizes come from stat(2) of every file: synchronous calls on cached inodes cost
      // a few µs each where a promise's round trip through the thread pool costs tens; a turn of
      // the event loop between batches bounds how long a large directory holds it.
      if (start > 0) await setImmediatePromise();
      for (const { entry } of candidates.slice(start, start + STATS_PER_TURN)) {
        const key = directoryKey + entry.name;
        if (entry.isDirectory()) {
          yield* this.walk(`${key}/`, '');
          continue;
        }
        const stats = statIfPresent(this.pathOf(key));
        if (stats?.isFile()) yield { key, size: stats.size };
      }
    }
  }

  private async openBlob(key: string): Promise<{ handle: FileHandle; size: number } | undefined> {
    const handle = await open(this.pathOf(key), constants.O_RDONLY).catch(absentAsUndefined);
    if (!handle) return undefined;
    const stats = await handle.stat();
    if (!stats.isFile()) {
      await handle.close();
      return undefined;
    }
    return { handle, size: stats.size };
  }

  /**
   * Temp files of a writer that is gone: at once when it ran on this host (a killed server's, so
   * that none outlives a restart), after STALE_TEMP_MS otherwise (another host's on a shared
   * filesystem, whose processes this one cannot see).
   */
  private async removeStaleTempFiles(): Promise<void> {
    const directory = join(this.root, TEMP_DIR);
    const now = Date.now();
    for (const name of await readdir(directory)) {
      const path = join(directory, name);
      const writer = writerOf(name);
      const stale =
        (writer?.host === thisHost() && !isRunning(writer.pid)) ||
        (await stat(path).then((stats) => now - stats.mtimeMs > STALE_TEMP_MS, absentAsFalse));
      if (stale) await rm(path, { force: true });
    }
  }
}

/**
 * `<host>~<pid>~<nonce><count>.tmp`: who writes the file, so that a later process knows whether it
 * still does. The nonce tells this process from an earlier one of the same id; a count rather than
 * random bytes per file, since those cost a system call each.
 */
function tempFileName(): string {
  return `${thisHost()}${WRITER_SEPARATOR}${process.pid}${WRITER_SEPARATOR}${processNonce}${(tempFilesNamed++).toString(36)}.tmp`;
}

const processNonce = randomBytes(8).toString('hex');
let tempFilesNamed = 0;

function writerOf(name: string): { host: string; pid: number } | undefined {
  const [host, pid, rest] = name.split(WRITER_SEPARATOR);
  return rest !== undefined && /^\d+$/.test(pid) ? { host, pid: Number(pid) } : undefined;
}

/** Read once: every blob written names its temp file after it, and hostname() is a system call. */
let host: string | undefined;

function thisHost(): string {
  return (host ??= hostname().replace(/[^A-Za-z0-9.-]/g, '_'));
}

/** Whether a process of this host has that id (one of another user's counts: signalling it is only refused). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function absentAsFalse(error: NodeJS.ErrnoException): false {
  if (error.code === 'ENOENT') return false;
  throw error;
}

async function writeDurably(key: string, path: string, body: BlobBody): Promise<void> {
  if (!Buffer.isBuffer(body) && body.path !== undefined) return copyDurably(key, path, body.path, body.size);
  const handle = await open(path, 'wx').catch((error: Error) => {
    throw new Error(`blob ${key}: cannot create temp file ${path}: ${error.message}`, { cause: error });
  });
  try {
    if (Buffer.isBuffer(body)) {
      await handle.writeFile(body);
    } else {
      let written = 0;
      for await (const chunk of body.open()) {
        const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        written += bytes.length;
        if (written > body.size) break;
        await writeAll(handle, bytes);
      }
      if (written !== body.size) {
        const got = written > body.size ? `more than ${body.size}` : String(written);
        throw new Error(`blob ${key}: body stream gave ${got} bytes, but its declared size is ${body.size}`);
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A local source file copied by the kernel (a reflink where the filesystem can), not through a JS stream. */
async function copyDurably(key: string, path: string, source: string, size: number): Promise<void> {
  await copyFile(source, path, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE).catch((error: Error) => {
    throw new Error(`blob ${key}: cannot copy ${source} to temp file ${path}: ${error.message}`, { cause: error });
  });
  const handle = await open(path, 'r+');
  try {
    const { size: copied } = await handle.stat();
    if (copied !== size) throw new Error(`blob ${key}: file ${source} holds ${copied} bytes, but its declared size is ${size}`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset, null);
    offset += bytesWritten;
  }
}

/**
 * link(2)s `temp` to `target`; `created` is false when `target` already exists (another writer
 * won). The directories are made only when the link finds them missing: a key's directory
 * almost always exists, and asking first would cost every write a mkdir and a stat.
 */
async function linkCreatingDirectories(
  key: string,
  temp: string,
  target: string,
): Promise<{ created: boolean; firstCreated: string | undefined }> {
  const linked = await linkOrCode(key, temp, target);
  if (linked !== 'ENOENT') return { created: linked === 'linked', firstCreated: undefined };
  const directory = dirname(target);
  const firstCreated = await mkdir(directory, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`blob ${key}: cannot create directory ${directory}: ${error.message}`, { cause: error });
  });
  const relinked = await linkOrCode(key, temp, target);
  if (relinked === 'ENOENT') throw new Error(`blob ${key}: cannot link ${temp} to ${target}: its directory or the temp file is gone`);
  return { created: relinked === 'linked', firstCreated };
}

/** link(2), with the two failures putIfAbsent expects as values: the name exists, or its directory does not. */
async function linkOrCode(key: string, temp: string, target: string): Promise<'linked' | 'EEXIST' | 'ENOENT'> {
  try {
    await link(temp, target);
    return 'linked';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOENT') return code;
    throw new Error(`blob ${key}: cannot link ${temp} to ${target}: ${(error as Error).message}`, { cause: error });
  }
}

function bodySize(body: BlobBody): number {
  return Buffer.isBuffer(body) ? body.length : body.size;
}

async function isFile(path: string): Promise<boolean> {
  const stats = await stat(path).catch(absentAsUndefined);
  return stats?.isFile() ?? false;
}

/**
 * Makes the new name durable: fsyncs `directory`, and when mkdir created directories
 * (the first being `firstCreated`), each of their parents too, up to the pre-existing one.
 */
async function fsyncDirectories(directory: string, firstCreated: string | undefined): Promise<void> {
  await fsyncDirectory(directory);
  if (firstCreated === undefined) return;
  const lastToSync = dirname(firstCreated);
  for (let current = directory; current !== lastToSync && current !== dirname(current);) {
    current = dirname(current);
    await fsyncDirectory(current);
  }
}

/** Files of a directory stat'ed per turn of the event loop while listing. */
const STATS_PER_TURN = 64;

function statIfPresent(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (error) {
    return absentAsUndefined(error as NodeJS.ErrnoException);
  }
}

function absentAsUndefined(error: NodeJS.ErrnoException): undefined {
  if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
  throw error;
}
