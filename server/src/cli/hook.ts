import type { Command } from 'commander';
import {
  HOOK_EVENTS,
  HookValidationError,
  deliverySummaryJson,
  hookJson,
  repositoryTarget,
  type HookTarget,
  type WebhookService,
} from '@gitfleet/events';
import { InvalidRepositoryName, validateRepositoryName, type Repository } from '@gitfleet/repository';
import { createLogger } from '../logger.js';
import { openWebhooks } from '../webhooks.js';
import { withStores, type CliContext } from './context.js';
import { notFound, usageError } from './errors.js';

const TARGET_HELP = 'owner/name, or owner for organisation hooks';

export function registerHookCommands(program: Command): void {
  const hook = program
    .command('hook')
    .description(
      'manage webhooks of a repository ("owner/name") or of every repository of an owner ("owner"); works on the stores directly, like `repo create`',
    );

  hook
    .command('list')
    .description('print the hooks as JSON lines')
    .argument('<target>', TARGET_HELP)
    .action(async (target: string) => {
      await withWebhooks(async ({ webhooks, resolve, baseUrl }) => {
        const { target: hookTarget } = await resolve(target);
        for (const found of await webhooks.hooks.list(hookTarget)) process.stdout.write(`${JSON.stringify(hookJson(found, baseUrl))}\n`);
      });
    });

  hook
    .command('create')
    .description('create a hook (and queue its ping); prints it as JSON')
    .argument('<target>', TARGET_HELP)
    .requiredOption('--url <url>', 'where deliveries are POSTed')
    .option('--secret <secret>', 'HMAC key of the signatures', '')
    .option('--events <list>', `comma-separated: * or ${HOOK_EVENTS.join(', ')}`, 'push')
    .option('--content-type <type>', 'json or form', 'json')
    .option('--branch-filter <glob>', 'only branches matching this glob (tags always pass)', '')
    .option('--inactive', 'create it switched off')
    .action(
      async (
        target: string,
        options: { url: string; secret: string; events: string; contentType: string; branchFilter: string; inactive?: boolean },
      ) => {
        await withWebhooks(async ({ webhooks, resolve, baseUrl }) => {
          const scope = await resolve(target);
          const body = {
            config: { url: options.url, secret: options.secret, content_type: options.contentType },
            events: options.events
              .split(',')
              .map((event) => event.trim())
              .filter((event) => event !== ''),
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
      },
    );

  hook
    .command('delete')
    .description('delete a hook and its delivery log')
    .argument('<target>', TARGET_HELP)
    .argument('<id>', 'hook id')
    .action(async (target: string, id: string) => {
      await withWebhooks(async ({ webhooks, resolve }) => {
        if (!(await webhooks.deleteHook((await resolve(target)).target, Number(id)))) throw notFound(`hook ${id} of ${target} not found`);
      });
    });

  hook
    .command('ping')
    .description('queue a ping to the hook')
    .argument('<target>', TARGET_HELP)
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
    .argument('<target>', TARGET_HELP)
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
    .argument('<target>', TARGET_HELP)
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
}

/** Whose hooks a command's target names, and the repository of a repository's hooks (pings need it). */
interface HookScope {
  target: HookTarget;
  repository?: Repository;
}

interface HookContext {
  webhooks: WebhookService;
  resolve(target: string): Promise<HookScope>;
  baseUrl: string;
}

/** Opens the stores and the webhook queues (producing only: the server's workers deliver). */
async function withWebhooks(action: (context: HookContext) => Promise<void>): Promise<void> {
  await withStores(async (context) => {
    const webhooks = openWebhooks(context.config, context.stores, createLogger('silent'));
    try {
      await action({ webhooks, resolve: (target) => resolveTarget(context, target), baseUrl: context.baseUrl });
    } finally {
      await webhooks.close();
    }
  });
}

/** "owner/name" is a repository's hooks, "owner" the hooks of every repository of that user or organisation. */
async function resolveTarget({ accounts, registry }: CliContext, target: string): Promise<HookScope> {
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
    return { target: { kind: 'organization', ownerId: account.id, owner: account.name } };
  }
  const repository = await registry.open(owner, name);
  if (!repository) throw notFound(`repository ${owner}/${name} not found`);
  return { target: repositoryTarget(repository.info), repository };
}
