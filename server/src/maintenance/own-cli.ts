import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The server's own command line, `gitfleet` (cli.ts beside this directory): `.ts` when the server
 * runs from its sources through tsx, `.js` when compiled into dist/.
 */
const CLI_ENTRY = fileURLToPath(new URL(`../cli${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/**
 * node's options of this process that a child must not repeat: a debugger port is this process's
 * own (the child could not bind it), and --inspect-brk would stop the child until a debugger comes.
 */
export const DEBUGGER_OPTION = /^--inspect(-brk|-wait|-port)?(=|$)/;

/**
 * How this process runs `gitfleet <args>`: the same node binary with the same options (the
 * compiled build's `--conditions=@gitfleet/compiled`, or `--import tsx` from the sources), so
 * the child resolves the workspace's packages exactly as this process does.
 */
export function ownCliCommand(args: readonly string[]): { file: string; args: string[] } {
  const nodeOptions = process.execArgv.filter((option) => !DEBUGGER_OPTION.test(option));
  return { file: process.execPath, args: [...nodeOptions, CLI_ENTRY, ...args] };
}
