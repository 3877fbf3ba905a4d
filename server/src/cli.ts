import { Command } from 'commander';
import { InvalidRepositoryName, RepositoryExists, RepositoryRegistry, validateRepositoryName } from '@gitfleet/repository';
import { ConfigError, loadConfig, type ServerConfig } from './config.js';
import { createLogger } from './logger.js';
import { cloneUrl } from './repositories.js';
import type { RepairProgress } from '@gitfleet/storage';
import { ProgressLine } from './progress-line.js';
import { openPlacement, openStores } from './stores.js';
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

program
  .command('repair')
  .description(
    'placement backend: give every blob a copy on each of its preferred stores again (after a store was lost, replaced or added); ' +
      'prints progress on stderr, a summary on stdout, and exits 1 unless every blob has its copies',
  )
  .option('--prefix <prefix>', 'only blobs whose key starts with this (e.g. repos/<id>/)', '')
  .option('--concurrency <n>', 'blobs repaired at once', '4')
  .action(async (options: { prefix: string; concurrency: string }) => {
    const config = configFromEnvironment();
    const concurrency = Number(options.concurrency);
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new CliError(`--concurrency: expected a positive integer, got ${JSON.stringify(options.concurrency)}`);
    const placement = await openPlacement(config);
    if (!placement) throw new CliError(`repair needs GITFLEET_BLOB_BACKEND=placement (this one is ${config.blobs.backend}: one store, no copies to restore)`);
    const line = new ProgressLine(process.stderr);
    try {
      const report = await placement.repair({
        prefix: options.prefix,
        concurrency,
        onProgress: (progress) => line.update(`repair: ${describeRepair(progress)}`),
      });
      line.done(`repair: ${describeRepair(report)}`);
      for (const { name, error } of report.unavailableStores) process.stderr.write(`gitfleet: store ${name} could not be listed: ${error}\n`);
      for (const { key, error } of report.failures) process.stderr.write(`gitfleet: ${key}: ${error}\n`);
      if (report.failed > report.failures.length) process.stderr.write(`gitfleet: … and ${report.failed - report.failures.length} more failed blobs\n`);
      process.stdout.write(`${describeRepair(report)}\n`);
      if (!report.ok) {
        const why = report.failed > 0 ? `${report.failed} blob(s) still lack copies` : `${report.unavailableStores.length} store(s) could not be listed`;
        throw new CliError(`repair incomplete: ${why}; run it again once the stores answer`);
      }
    } finally {
      line.interrupt();
      await placement.close();
    }
  });

function describeRepair(progress: RepairProgress): string {
  return (
    `${progress.keys} blobs checked: ${progress.healthy} had their copies, ${progress.repaired} repaired ` +
    `(${progress.copies} copies, ${formatBytes(progress.bytesCopied)}), ${progress.failed} failed`
  );
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

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
