import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDirectory } from '../fsync-directory.js';

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
  private running?: Promise<void>;
  private next?: Promise<void>;

  constructor(private readonly walPath: string) {}

  sync(): Promise<void> {
    if (this.running === undefined) return this.start();
    this.next ??= this.running.then(
      () => this.startNext(),
      () => this.startNext(),
    );
    return this.next;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.running, this.next]);
    const file = this.file;
    this.file = undefined;
    if (file) await (await file.catch(() => undefined))?.close();
  }

  private startNext(): Promise<void> {
    this.next = undefined;
    return this.start();
  }

  private start(): Promise<void> {
    const running = this.fsync().finally(() => {
      if (this.running === running) this.running = undefined;
    });
    this.running = running;
    return running;
  }

  private async fsync(): Promise<void> {
    if (this.file === undefined) {
      // The WAL exists once a commit has been written to it. Its directory entry is made
      // durable once too: a new file is lost on power failure without it.
      this.file = open(this.walPath, constants.O_RDONLY).then(async (handle) => {
        await fsyncDirectory(dirname(this.walPath));
        return handle;
      });
      this.file.catch(() => (this.file = undefined));
    }
    const handle = await this.file;
    await handle.datasync();
  }
}
