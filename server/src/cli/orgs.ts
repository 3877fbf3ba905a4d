import type { Command } from 'commander';
import type { OrgRole } from '@gitfleet/accounts';
import { deleteOrganization, refuseWhileOwningRepositories } from '../operations/owners.js';
import { withStores } from './context.js';
import { notFound, stillOwnsRepositories, usageError } from './errors.js';
import { orgJson } from './json.js';
import { printJson, printTable, shortTime } from './output.js';
import { confirm } from './prompt.js';

const ROLES: readonly OrgRole[] = ['owner', 'member'];

export function registerOrgCommands(program: Command): void {
  const org = program.command('org').description('manage organisations');

  org
    .command('create')
    .description('create an organisation whose first owner is --owner; prints its name')
    .argument('<name>', 'shares one namespace with users')
    .requiredOption('--owner <user>', 'the user who becomes its first owner')
    .option('--full-name <name>', 'display name', '')
    .option('--description <text>', 'one line about it', '')
    .action(async (name: string, options: { owner: string; fullName: string; description: string }) => {
      await withStores(async ({ accounts }) => {
        const owner = await accounts.getUser(options.owner);
        if (!owner) throw notFound(`user ${options.owner} not found`);
        const created = await accounts.createOrganization({
          name,
          creator: owner.name,
          fullName: options.fullName,
          description: options.description,
        });
        process.stdout.write(`${created.name}\n`);
        process.stderr.write(`created organisation ${created.name} owned by ${owner.name}\n`);
      });
    });

  org
    .command('list')
    .description('list every organisation')
    .option('--json', "print a JSON array (the REST API's organisation shape)")
    .action(async (options: { json?: boolean }) => {
      await withStores(async ({ accounts, baseUrl }) => {
        const orgs = await accounts.listOrganizations();
        if (options.json) return printJson(orgs.map((found) => orgJson(found, baseUrl)));
        printTable(
          ['name', 'full name', 'description', 'created'],
          orgs.map((found) => ({
            name: found.name,
            'full name': found.fullName,
            description: found.description,
            created: shortTime(found.createdAt),
          })),
          'no organisations',
        );
      });
    });

  org
    .command('delete')
    .description('delete an organisation with its teams and memberships (refused while it owns repositories)')
    .argument('<name>')
    .option('--yes', 'do not ask for confirmation')
    .action(async (name: string, options: { yes?: boolean }) => {
      await withStores(async ({ accounts, registry, stores }) => {
        const found = await accounts.getOrganization(name);
        if (!found) throw notFound(`organisation ${name} not found`);
        await refuseWhileOwningRepositories(registry, { kind: 'org', org: found }).catch(stillOwnsRepositories('organisation'));
        if (!(await confirm(options.yes, `delete organisation ${found.name}`, found.name)))
          throw usageError('not confirmed; nothing deleted');
        await deleteOrganization({ accounts, registry, kv: stores.kv }, found);
        process.stderr.write(`deleted organisation ${found.name}\n`);
      });
    });

  org
    .command('add-member')
    .description('add a user to an organisation, or change its role there')
    .argument('<org>')
    .argument('<user>')
    .option('--role <role>', 'owner or member', 'member')
    .action(async (orgName: string, userName: string, options: { role: string }) => {
      if (!ROLES.includes(options.role as OrgRole))
        throw usageError(`--role: expected owner or member, got ${JSON.stringify(options.role)}`);
      await withStores(async ({ accounts }) => {
        const found = await accounts.getOrganization(orgName);
        if (!found) throw notFound(`organisation ${orgName} not found`);
        const member = await accounts.getUser(userName);
        if (!member) throw notFound(`user ${userName} not found`);
        await accounts.setMember(found.name, member.name, options.role as OrgRole);
        process.stderr.write(`${member.name} is ${options.role === 'owner' ? 'an owner' : 'a member'} of ${found.name}\n`);
      });
    });
}
