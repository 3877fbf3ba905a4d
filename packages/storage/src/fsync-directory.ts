import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Makes the entries of `directory` durable: a file created or renamed in it is lost on power failure until then. */
export async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
