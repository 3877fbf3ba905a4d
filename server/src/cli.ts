import { Command } from 'commander';
import { InvalidRepositoryName, RepositoryExists, RepositoryRegistry, validateRepositoryName } from '@gitfleet/repository';
import { ConfigError, loadConfig, type ServerConfig } from './config.js';
import { createLogger } from './logger.js';
import { cloneUrl } from './repositories.js';
import { openStores } from './stores.js';
import { startServer } from './index.js';

/** A failure the user can fix; printed as one line, without a stack trace. */
class CliError extends Error {}

const program = new Command('gitfleet')
  .description('Git hosting over smart HTTP: packs in a blob store, refs in a key/value store.')
  .showHelpAfterError();

program
  .command('serve')
  .description('serve git smart HTTP and the REST API (configured from the environment, see README.md)')
  .action(async () => {
    const config = configFromEnvironment();
    const logger = createLogger(config.logLevel);
    const server = await startServer({ config, logger });
    logger.info({ url: server.url, dataDir: config.dataDir }, 'listening');
    let signals = 0;
    const shutdown = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: exiting without waiting for requests');
        process.exit(1);
      }
      logger.info({ signal }, 'shutting down');
      server.close().then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
  });

const repo = program.command('repo').description('manage repositories');

repo
  .command('create')
  .description('create an empty repository (default branch "main") and print its clone URL')
  .argument('<owner/name>', 'e.g. alice/hello')
  .action(async (fullName: string) => {
    const config = configFromEnvironment();
    const slash = fullName.indexOf('/');
    if (slash < 0) throw new CliError(`expected <owner>/<name>, got ${JSON.stringify(fullName)}`);
    const owner = fullName.slice(0, slash);
    const name = fullName.slice(slash + 1).replace(/\.git$/, '');
    try {
      validateRepositoryName(owner, name);
    } catch (error) {
      if (error instanceof InvalidRepositoryName) throw new CliError(`invalid repository name ${JSON.stringify(fullName)}: ${error.message}`);
      throw error;
    }
    const stores = await openStores(config);
    try {
      await new RepositoryRegistry(stores).create(owner, name, { defaultBranch: 'main' });
    } catch (error) {
      if (error instanceof RepositoryExists) throw new CliError(`repository ${owner}/${name} already exists`);
      throw error;
    } finally {
      await stores.close();
    }
    process.stdout.write(`${cloneUrl(cliBaseUrl(config), owner, name)}\n`);
  });

function configFromEnvironment(): ServerConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
}

/** The URL clients reach the server at, as well as the CLI can tell without the server. */
function cliBaseUrl(config: ServerConfig): string {
  if (config.publicUrl) return config.publicUrl;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${config.port}`;
}

program.parseAsync().catch((error: unknown) => {
  // Errors with a system code (EADDRINUSE, EACCES…) explain themselves; others get a stack.
  const expected = error instanceof CliError || (error instanceof Error && 'code' in error);
  process.stderr.write(`gitfleet: ${expected ? (error as Error).message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
