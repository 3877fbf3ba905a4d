/** The `gitfleet` program: its description, exit codes and error output, and every command (one module each under cli/). */
import { Command, CommanderError } from 'commander';
import { EXIT, cliErrorFor } from './cli/errors.js';
import { registerHookCommands } from './cli/hook.js';
import { registerJournalCommands } from './cli/journal.js';
import { registerMaintenanceCommands } from './cli/maintenance.js';
import { registerOrgCommands } from './cli/orgs.js';
import { registerQuotaCommands } from './cli/quotas.js';
import { registerRepairCommand } from './cli/repair.js';
import { registerRepoCommands } from './cli/repos.js';
import { registerServeCommand } from './cli/serve.js';
import { registerTokenCommands } from './cli/tokens.js';
import { registerUserCommands } from './cli/users.js';

const program = new Command('gitfleet')
  .description('Git hosting over smart HTTP: packs in a blob store, refs in a key/value store.')
  .addHelpText(
    'after',
    '\nExit codes: 0 done, 1 failed, 2 usage error or a value not allowed, 3 not found, 4 already exists (or in the way).\n' +
      'Commands other than serve work on the stores directly, configured from the same environment as the server,\n' +
      'and are safe while a server runs on the same data.',
  )
  .showHelpAfterError()
  // Usage errors reach the catch below (exit 2) instead of commander's process.exit(1);
  // subcommands inherit both settings.
  .exitOverride()
  .configureOutput({ outputError: (message, write) => write(`gitfleet: ${message.replace(/^error: /, '')}`) });

// In this order in the help: the server, then the stores' commands.
registerServeCommand(program);
registerUserCommands(program);
registerOrgCommands(program);
registerTokenCommands(program);
registerRepoCommands(program);
registerHookCommands(program);
registerMaintenanceCommands(program);
registerQuotaCommands(program);
registerRepairCommand(program);
registerJournalCommands(program);

program.parseAsync().catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // Already printed by commander; --help and --version end here too, with exit code 0.
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return;
  }
  const known = cliErrorFor(error);
  // Errors with a system code (EADDRINUSE, EACCES…) explain themselves; others get a stack.
  const expected = known !== undefined || (error instanceof Error && 'code' in error);
  process.stderr.write(
    `gitfleet: ${expected ? (error as Error).message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = known?.exitCode ?? EXIT.failure;
});
