/**
 * The directories where a server process spools the packs of the pushes it receives. A spool
 * file never outlives its request (receive-pack removes it when the push ends) or a restart: a
 * process killed mid-push leaves its files behind, and the next process that owns them empties
 * them as it starts. Ownership follows who may be receiving pushes meanwhile: a process serving
 * alone owns every receive spool of the data directory, so do a cluster's primary before it forks
 * its workers; a worker owns only its slot's, since the others receive pushes while it
 * (re)starts, and a replaced worker takes over its slot. Maintenance's work directories share the
 * spool directory but are not receive spools: a maintenance child outlives a killed server and
 * removes its own.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

const RECEIVE_SPOOL_PREFIX = 'receive';

/** The receive spool of a process serving alone, or of the cluster worker in `workerSlot`. */
export function receiveSpoolDirectory(spoolDir: string, workerSlot?: number): string {
  return path.join(spoolDir, workerSlot === undefined ? RECEIVE_SPOOL_PREFIX : `${RECEIVE_SPOOL_PREFIX}-worker-${workerSlot}`);
}

/**
 * Empties the receive spools this process owns (see above) and returns its own, created.
 * Also removes spool files an older version wrote straight into the spool directory.
 */
export async function claimReceiveSpool(spoolDir: string, workerSlot?: number): Promise<string> {
  const own = receiveSpoolDirectory(spoolDir, workerSlot);
  if (workerSlot === undefined) await removeReceiveSpools(spoolDir);
  else await removeSpoolEntry(own);
  await mkdir(own, { recursive: true });
  return own;
}

/** Removes every receive spool (and spool file) in `spoolDir`: only while no process of the data directory receives pushes. */
export async function removeReceiveSpools(spoolDir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(spoolDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`cannot list the spool directory ${spoolDir}: ${(error as Error).message}`, { cause: error });
  }
  for (const entry of entries) if (entry.startsWith(RECEIVE_SPOOL_PREFIX)) await removeSpoolEntry(path.join(spoolDir, entry));
}

async function removeSpoolEntry(entry: string): Promise<void> {
  try {
    await rm(entry, { recursive: true, force: true });
  } catch (error) {
    throw new Error(`cannot remove the leftover receive spool ${entry}: ${(error as Error).message}`, { cause: error });
  }
}
