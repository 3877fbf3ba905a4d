import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** One fsync of a directory, opened and closed around it. */
async function syncOnce(directory: string): Promise<void> {
  const handle = await open(directory, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Directory fsyncs shared between callers (group commit, as WalSync does for the WAL). A caller
 * needs an fsync that starts after it asks: the entry it created may have been missed by one
 * already running. Callers that ask while one runs share the next, so a burst of files created
 * in one directory (concurrent pushes, a pack and its index) costs two fsyncs, not one each.
 */
export class DirectorySyncs {
  private readonly syncs = new Map<string, { running: Promise<void>; next?: Promise<void> }>();

  /** `syncOnce` is the fsync itself; tests give one they control. */
  constructor(private readonly syncOnce: (directory: string) => Promise<void>) {}

  /** Resolves once an fsync of `directory` that started after this call has succeeded. */
  sync(directory: string): Promise<void> {
    const state = this.syncs.get(directory);
    if (!state) return this.start(directory);
    state.next ??= state.running.catch(() => undefined).then(() => this.start(directory));
    return state.next;
  }

  private start(directory: string): Promise<void> {
    const running = this.syncOnce(directory).finally(() => {
      const state = this.syncs.get(directory);
      if (state?.running === running && state.next === undefined) this.syncs.delete(directory);
    });
    this.syncs.set(directory, { running });
    return running;
  }
}

const processSyncs = new DirectorySyncs(syncOnce);

/** Makes the entries of `directory` durable: a file created or renamed in it is lost on power failure until then. */
export function fsyncDirectory(directory: string): Promise<void> {
  return processSyncs.sync(directory);
}
