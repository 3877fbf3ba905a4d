import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { GroupCommit } from './group-commit.js';

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
 * Directory fsyncs shared between callers (GroupCommit, one per directory under way): a burst of
 * files created in one directory (concurrent pushes, a pack and its index) costs two fsyncs, not
 * one each.
 */
export class DirectorySyncs {
  private readonly groups = new Map<string, GroupCommit>();

  /** `syncOnce` is the fsync itself; tests give one they control. */
  constructor(private readonly syncOnce: (directory: string) => Promise<void>) {}

  /** Resolves once an fsync of `directory` that started after this call has succeeded. */
  sync(directory: string): Promise<void> {
    let group = this.groups.get(directory);
    if (!group) {
      group = new GroupCommit(() => this.syncOnce(directory));
      this.groups.set(directory, group);
    }
    const done = group.request();
    const forgetIfIdle = () => {
      if (group.idle && this.groups.get(directory) === group) this.groups.delete(directory);
    };
    done.then(forgetIfIdle, forgetIfIdle);
    return done;
  }
}

const processSyncs = new DirectorySyncs(syncOnce);

/** Makes the entries of `directory` durable: a file created or renamed in it is lost on power failure until then. */
export function fsyncDirectory(directory: string): Promise<void> {
  return processSyncs.sync(directory);
}
