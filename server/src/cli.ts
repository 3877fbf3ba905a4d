import { Command, CommanderError } from 'commander';
import { AccountStore } from '@gitfleet/accounts';
import { InvalidRepositoryName, RepositoryRegistry, validateRepositoryName, type Repository } from '@gitfleet/repository';
import { createLogger } from './logger.js';
import type { RepairProgress } from '@gitfleet/storage';
import { ProgressLine } from './progress-line.js';
import { openPlacement, openStores } from './stores.js';
import { openWebhooks } from './webhooks.js';
import { cliBaseUrl, configFromEnvironment } from './cli/context.js';
import { CliError, EXIT, cliErrorFor, notFound, usageError } from './cli/errors.js';
import { registerOrgCommands } from './cli/orgs.js';
import { registerRepoCommands } from './cli/repos.js';
import { registerTokenCommands } from './cli/tokens.js';
import { registerUserCommands } from './cli/users.js';
import { HOOK_EVENTS, HookValidationError, deliverySummaryJson, hookJson, repositoryTarget, type HookTarget, type WebhookService } from '@gitfleet/events';

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

program
  .command('serve')
  .description('serve git smart HTTP and the REST API (configured from the environment, see README.md)')
  .action(async () => {
    const config = configFromEnvironment();
    const logger = createLogger(config.logLevel);
    // Loaded here: the admin commands need none of the HTTP stack and start faster without it.
    const { startServer } = await import('./index.js');
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

registerUserCommands(program);
registerOrgCommands(program);
registerTokenCommands(program);
registerRepoCommands(program);

const hook = program
  .command('hook')
  .description('manage webhooks of a repository ("owner/name") or of every repository of an owner ("owner"); works on the stores directly, like `repo create`');

hook
  .command('list')
  .description('print the hooks as JSON lines')
  .argument('<target>', 'owner/name, or owner for organisation hooks')
  .action(async (target: string) => {
    await withWebhooks(async ({ webhooks, resolve, baseUrl }) => {
      const { target: hookTarget } = await resolve(target);
      for (const found of await webhooks.hooks.list(hookTarget)) process.stdout.write(`${JSON.stringify(hookJson(found, baseUrl))}\n`);
    });
  });

hook
  .command('create')
  .description('create a hook (and queue its ping); prints it as JSON')
  .argument('<target>', 'owner/name, or owner for organisation hooks')
  .requiredOption('--url <url>', 'where deliveries are POSTed')
  .option('--secret <secret>', 'HMAC key of the signatures', '')
  .option('--events <list>', `comma-separated: * or ${HOOK_EVENTS.join(', ')}`, 'push')
  .option('--content-type <type>', 'json or form', 'json')
  .option('--branch-filter <glob>', 'only branches matching this glob (tags always pass)', '')
  .option('--inactive', 'create it switched off')
  .action(async (target: string, options: { url: string; secret: string; events: string; contentType: string; branchFilter: string; inactive?: boolean }) => {
    await withWebhooks(async ({ webhooks, resolve, baseUrl }) => {
      const scope = await resolve(target);
      const body = {
        config: { url: options.url, secret: options.secret, content_type: options.contentType },
        events: options.events.split(',').map((event) => event.trim()).filter((event) => event !== ''),
        branch_filter: options.branchFilter,
        active: !options.inactive,
      };
      try {
        const created = await webhooks.createHook(scope.target, body, { baseUrl, repository: scope.repository });
        process.stdout.write(`${JSON.stringify(hookJson(created, baseUrl))}\n`);
      } catch (error) {
        if (error instanceof HookValidationError) throw usageError(`invalid hook: ${error.message}`);
        throw error;
      }
    });
  });

hook
  .command('delete')
  .description('delete a hook and its delivery log')
  .argument('<target>', 'owner/name, or owner for organisation hooks')
  .argument('<id>', 'hook id')
  .action(async (target: string, id: string) => {
    await withWebhooks(async ({ webhooks, resolve }) => {
      if (!(await webhooks.deleteHook((await resolve(target)).target, Number(id)))) throw notFound(`hook ${id} of ${target} not found`);
    });
  });

hook
  .command('ping')
  .description('queue a ping to the hook')
  .argument('<target>', 'owner/name, or owner for organisation hooks')
  .argument('<id>', 'hook id')
  .action(async (target: string, id: string) => {
    await withWebhooks(async ({ webhooks, resolve, baseUrl }) => {
      const scope = await resolve(target);
      const found = await webhooks.hooks.get(scope.target, Number(id));
      if (!found) throw notFound(`hook ${id} of ${target} not found`);
      await webhooks.ping(found, { baseUrl, repository: scope.repository });
    });
  });

hook
  .command('deliveries')
  .description('print the delivery log of a hook (newest first) as JSON lines')
  .argument('<target>', 'owner/name, or owner for organisation hooks')
  .argument('<id>', 'hook id')
  .action(async (target: string, id: string) => {
    await withWebhooks(async ({ webhooks, resolve }) => {
      for (const attempt of await webhooks.log.list((await resolve(target)).target, Number(id))) {
        process.stdout.write(`${JSON.stringify(deliverySummaryJson(attempt))}\n`);
      }
    });
  });

hook
  .command('redeliver')
  .description('queue a new attempt of a logged delivery (same X-GitHub-Delivery id)')
  .argument('<target>', 'owner/name, or owner for organisation hooks')
  .argument('<id>', 'hook id')
  .argument('<delivery>', 'delivery (attempt) id from `hook deliveries`')
  .action(async (target: string, id: string, delivery: string) => {
    await withWebhooks(async ({ webhooks, resolve }) => {
      const scope = await resolve(target);
      const attempt = await webhooks.log.get(scope.target, Number(id), Number(delivery));
      if (!attempt) throw notFound(`delivery ${delivery} of hook ${id} of ${target} not found`);
      await webhooks.redeliver(attempt, scope.target);
    });
  });

/** Opens the stores and the webhook queues (producing only: the server's workers deliver). */
async function withWebhooks(
  action: (context: {
    webhooks: WebhookService;
    resolve(target: string): Promise<{ target: HookTarget; repository?: Repository }>;
    baseUrl: string;
  }) => Promise<void>,
): Promise<void> {
  const config = configFromEnvironment();
  const stores = await openStores(config);
  const webhooks = openWebhooks(config, stores, createLogger('silent'));
  const registry = new RepositoryRegistry(stores);
  const accounts = new AccountStore(stores.kv);
  const resolve = async (target: string) => {
    const [owner, name, ...rest] = target.split('/');
    try {
      validateRepositoryName(owner, name ?? 'repository');
    } catch (error) {
      if (error instanceof InvalidRepositoryName) throw usageError(`invalid target ${JSON.stringify(target)}: ${error.message}`);
      throw error;
    }
    if (rest.length > 0) throw usageError(`expected owner/name or owner, got ${JSON.stringify(target)}`);
    if (name === undefined) {
      const found = await accounts.getOwner(owner);
      if (!found) throw notFound(`owner ${owner} not found`);
      const account = found.kind === 'user' ? found.user : found.org;
      return { target: { kind: 'organization', ownerId: account.id, owner: account.name } as HookTarget };
    }
    const repository = await registry.open(owner, name);
    if (!repository) throw notFound(`repository ${owner}/${name} not found`);
    return { target: repositoryTarget(repository.info), repository };
  };
  try {
    await action({ webhooks, resolve, baseUrl: cliBaseUrl(config) });
  } finally {
    await webhooks.close();
    await stores.close();
  }
}

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
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw usageError(`--concurrency: expected a positive integer, got ${JSON.stringify(options.concurrency)}`);
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

program.parseAsync().catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // Already printed by commander; --help and --version end here too, with exit code 0.
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return;
  }
  const known = cliErrorFor(error);
  // Errors with a system code (EADDRINUSE, EACCES…) explain themselves; others get a stack.
  const expected = known !== undefined || (error instanceof Error && 'code' in error);
  process.stderr.write(`gitfleet: ${expected ? (error as Error).message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = known?.exitCode ?? EXIT.failure;
});
