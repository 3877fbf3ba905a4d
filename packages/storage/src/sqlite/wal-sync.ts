import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { fsyncDirectory } from '../fsync-directory.js';
import { GroupCommit } from '../group-commit.js';

/**
 * Puts the connection in WAL mode with synchronous = NORMAL, for its commits to be made durable
 * by a WalSync; throws where SQLite cannot keep a WAL (it would then make nothing durable).
 */
export function useWalWithSync(db: Database.Database, path: string): WalSync {
  const mode = String(db.pragma('journal_mode = WAL', { simple: true }));
  if (mode.toLowerCase() !== 'wal') throw new Error(`${path}: SQLite cannot keep a WAL here (journal mode ${mode})`);
  // NORMAL: a commit is written to the WAL without an fsync, which would block the event loop
  // for a millisecond or more per commit; the WalSync makes it durable before it is acknowledged.
  db.pragma('synchronous = NORMAL');
  return new WalSync(`${path}-wal`);
}

/**
 * Makes the commits written to a WAL file durable, for a connection in WAL mode with
 * synchronous = NORMAL, off the event loop and shared between writers (group commit): a write resolves only after an fsync that started after its commit,
 * and commits made while one fsync runs share the next.
 *
 * Why this is as durable as synchronous = FULL: a WAL is appended in order and SQLite (in
 * NORMAL mode) syncs it before each checkpoint and syncs the database after, before the WAL
 * is reused. An fsync of the WAL file after a commit therefore persists that commit and
 * every earlier one; a crash before it can lose only commits not yet acknowledged (other
 * readers may have seen them, as they may see any commit that a power loss then takes). The
 * WAL file is only deleted when the last connection to the database closes, and the user
 * of this keeps its own connection open until close(), so the file synced is the one SQLite
 * writes.
 */
export class WalSync {
  private file?: Promise<FileHandle>;
  // A commit made after a failed fsync is never synced: see assertWritable.
  private readonly syncs = new GroupCommit(() => (this.failure ? Promise.reject(this.failure) : this.fsync()));
  private failure?: WalSyncFailed;
  private closed = false;

  /** `datasync` is the fsync itself; tests give one that fails. */
  constructor(
    private readonly walPath: string,
    private readonly datasync: (handle: FileHandle) => Promise<void> = (handle) => handle.datasync(),
  ) {}

  /**
   * Throws once a sync has failed. A commit made after that could not be made durable: the
   * failed fsync may have dropped pages of earlier commits while reporting the error only once
   * (Linux), so a later fsync would succeed over a WAL with a hole. Writers call this before
   * committing; the store refuses writes until a restart, whose WAL recovery keeps what reached
   * the disk.
   */
  assertWritable(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error(`${this.walPath}: the store is closed`);
  }

  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error(`${this.walPath}: the store is closed`));
    return this.syncs.request();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.syncs.settled();
    const file = this.file;
    this.file = undefined;
    if (file) await (await file.catch(() => undefined))?.close();
  }

  private async fsync(): Promise<void> {
    try {
      // The WAL exists once a commit has been written to it. Its directory entry is made
      // durable once too: a new file is lost on power failure without it.
      this.file ??= open(this.walPath, constants.O_RDONLY).then(async (handle) => {
        await fsyncDirectory(dirname(this.walPath));
        return handle;
      });
      await this.datasync(await this.file);
    } catch (error) {
      this.failure ??= new WalSyncFailed(this.walPath, error as Error);
      throw this.failure;
    }
  }
}

/** A commit of the store could not be made durable: every write is refused from then on. */
export class WalSyncFailed extends Error {
  override name = 'WalSyncFailed';

  constructor(walPath: string, cause: Error) {
    super(
      `${walPath}: fsync failed (${cause.message}); the store refuses writes until the server restarts (its WAL recovery keeps what reached the disk)`,
      { cause },
    );
  }
}
