import { OwnerHasRepositories, errorKind, type ErrorKind } from '../operations/errors.js';

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
 * Turns OwnerHasRepositories into a conflict naming the first few repositories, for a
 * `.catch` on the check a delete command makes before it asks for confirmation.
 */
export function stillOwnsRepositories(what: 'user' | 'organisation') {
  return (error: unknown): never => {
    if (!(error instanceof OwnerHasRepositories)) throw error;
    const owned = error.repositories;
    const names = `${owned
      .slice(0, 3)
      .map((info) => info.name)
      .join(', ')}${owned.length > 3 ? ', …' : ''}`;
    throw conflict(`${what} ${error.owner} still owns ${owned.length} repositories (${names}); delete or move them first`);
  };
}

/** The exit code of each kind of error (operations/errors.ts), as the API has a status for each. */
const EXIT_OF_KIND: Readonly<Record<ErrorKind, ExitCode>> = {
  invalid: EXIT.usage,
  'not-found': EXIT.notFound,
  conflict: EXIT.conflict,
  'in-use': EXIT.conflict,
  forbidden: EXIT.failure,
  busy: EXIT.failure,
  unavailable: EXIT.failure,
  full: EXIT.failure,
};

/**
 * The CLI error for a failure of an operation, the account store or the repository registry,
 * whose messages already name the user, organisation or repository; undefined for anything
 * unexpected.
 */
export function cliErrorFor(error: unknown): CliError | undefined {
  if (error instanceof CliError) return error;
  const kind = errorKind(error);
  return kind === undefined ? undefined : new CliError((error as Error).message, EXIT_OF_KIND[kind]);
}
