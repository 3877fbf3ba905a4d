import { AccountConflict, AccountNotFound, InvalidAccountInput } from '@gitfleet/accounts';
import { InvalidRepositoryName, RepositoryExists } from '@gitfleet/repository';

/**
 * Exit codes of the CLI, so that scripts can tell what went wrong without parsing messages.
 * 2 is also what commander's own usage errors (unknown option, missing argument) exit with.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, conflict: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the user can fix; printed as one line, without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failure,
  ) {
    super(message);
  }
}

/** A value the command cannot accept (a bad name, scope, date…): exit 2. */
export const usageError = (message: string) => new CliError(message, EXIT.usage);
/** No such user, organisation, repository, token: exit 3. */
export const notFound = (message: string) => new CliError(message, EXIT.notFound);
/** Already exists, or in the way (an organisation that still owns repositories): exit 4. */
export const conflict = (message: string) => new CliError(message, EXIT.conflict);

/**
 * The CLI error for a failure of the account store or the repository registry, whose messages
 * already name the user, organisation or repository; undefined for anything unexpected.
 */
export function cliErrorFor(error: unknown): CliError | undefined {
  if (error instanceof CliError) return error;
  if (error instanceof AccountNotFound) return notFound(error.message);
  if (error instanceof AccountConflict || error instanceof RepositoryExists) return conflict(error.message);
  if (error instanceof InvalidAccountInput || error instanceof InvalidRepositoryName) return usageError(error.message);
  return undefined;
}
