import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVER_ENTRY = 'server/dist/cli.js';

/**
 * node's options in the root package.json's `start` script (`… && node <options> server/dist/cli.js
 * serve`): the benchmark runs the server exactly as `pnpm start` does, heap sizing included,
 * without a second copy of the options to keep in step.
 */
export function startNodeOptions(): string[] {
  const manifest = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts?: { start?: string } };
  const start = manifest.scripts?.start ?? '';
  const command = start.split('&&').at(-1)!.trim().split(/\s+/);
  const entry = command.indexOf(SERVER_ENTRY);
  if (command[0] !== 'node' || entry < 0)
    throw new Error(`package.json's start script does not end in \`node … ${SERVER_ENTRY} serve\`: ${start}`);
  return command.slice(1, entry);
}
