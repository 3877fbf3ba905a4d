import type { Command } from 'commander';
import { Repository, validateRepositoryName } from '@gitfleet/repository';
import { cloneUrl } from '../operations/clone-url.js';
import { createRepository } from '../operations/create-repository.js';
import { deleteRepository } from '../operations/delete-repository.js';
import { OwnerNotFound } from '../operations/errors.js';
import { transferRepository } from '../operations/transfer-repository.js';
import { withStores } from './context.js';
import { notFound, usageError } from './errors.js';
import { repoJson } from './json.js';
import { printJson, printTable } from './output.js';
import { confirm } from './prompt.js';
import { parseFullName } from './full-name.js';

export function registerRepoCommands(program: Command): void {
  const repo = program.command('repo').description('manage repositories');

  repo
    .command('create')
    .description('create an empty repository (default branch "main") owned by an existing user or organisation; prints its clone URL')
    .argument('<owner/name>', 'e.g. alice/hello')
    .option('--private', 'visible only to those granted access')
    .option('--description <text>', 'one line about it', '')
    .option('--default-branch <branch>', 'the branch HEAD names', 'main')
    .action(async (fullName: string, options: { private?: boolean; description: string; defaultBranch: string }) => {
      const { owner, name } = parseFullName(fullName);
      await withStores(async ({ accounts, registry, baseUrl }) => {
        const created = await createRepository(
          { accounts, registry },
          {
            owner,
            name,
            defaultBranch: options.defaultBranch,
            private: options.private === true,
            description: options.description,
          },
        ).catch((error: unknown) => {
          if (error instanceof OwnerNotFound) throw notFound(`owner ${owner} not found: create the user or organisation first`);
          throw error;
        });
        process.stdout.write(`${cloneUrl(baseUrl, created.info.owner, created.info.name)}\n`);
      });
    });

  repo
    .command('list')
    .description('list repositories, of every owner or of one')
    .option('--owner <owner>', 'only those of this user or organisation')
    .option('--json', "print a JSON array (the REST API's repository shape)")
    .action(async (options: { owner?: string; json?: boolean }) => {
      await withStores(async ({ accounts, registry, stores, baseUrl }) => {
        let infos;
        if (options.owner === undefined) infos = await registry.list();
        else {
          validateOwner(options.owner);
          infos = await registry.listOwnedBy(options.owner);
          if (infos.length === 0 && !(await accounts.getOwner(options.owner))) throw notFound(`owner ${options.owner} not found`);
        }
        // Each costs one KV read more, its HEAD (the default branch).
        const shapes = await Promise.all(infos.map((info) => repoJson(new Repository(info, stores), baseUrl)));
        if (options.json) return printJson(shapes);
        printTable(
          ['repository', 'visibility', 'default branch', 'description'],
          shapes.map((shape) => ({
            repository: shape.full_name,
            visibility: shape.private ? 'private' : 'public',
            'default branch': shape.default_branch,
            description: shape.description,
          })),
          'no repositories',
        );
      });
    });

  repo
    .command('transfer')
    .description(
      "move a repository to another user or organisation, optionally renamed: its refs, hooks and collaborators go with it, its organisation's team grants do not; prints its new clone URL",
    )
    .argument('<owner/name>', 'e.g. alice/hello')
    .argument('<new-owner>', 'an existing user or organisation')
    .option('--name <new-name>', 'its name under the new owner (default: its current name)')
    .action(async (fullName: string, newOwner: string, options: { name?: string }) => {
      const { owner, name } = parseFullName(fullName);
      await withStores(async ({ accounts, registry, baseUrl }) => {
        const found = await registry.open(owner, name);
        if (!found) throw notFound(`repository ${owner}/${name} not found`);
        const moved = await transferRepository({ accounts, registry }, found, { newOwner, newName: options.name });
        if (!moved) throw notFound(`repository ${owner}/${name} not found`);
        process.stdout.write(`${cloneUrl(baseUrl, moved.info.owner, moved.info.name)}\n`);
      });
    });

  repo
    .command('delete')
    .description('delete a repository: its refs and every access grant at once (its packs are left to the collector)')
    .argument('<owner/name>')
    .option('--yes', 'do not ask for confirmation')
    .action(async (fullName: string, options: { yes?: boolean }) => {
      const { owner, name } = parseFullName(fullName);
      await withStores(async ({ accounts, registry, stores }) => {
        const found = await registry.open(owner, name);
        if (!found) throw notFound(`repository ${owner}/${name} not found`);
        const { info } = found;
        if (!(await confirm(options.yes, `delete repository ${info.owner}/${info.name}`, `${info.owner}/${info.name}`)))
          throw usageError('not confirmed; nothing deleted');
        if (!(await deleteRepository({ registry, accounts, kv: stores.kv }, info))) throw notFound(`repository ${owner}/${name} not found`);
        process.stderr.write(`deleted repository ${info.owner}/${info.name}\n`);
      });
    });
}

/** "alice/hello" or "alice/hello.git" → its parts, validated (exit 2 when not allowed). */
function validateOwner(owner: string): void {
  validateRepositoryName(owner, 'repository');
}
