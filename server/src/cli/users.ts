import type { Command } from 'commander';
import { deleteUser, refuseWhileOwningRepositories } from '../operations/owners.js';
import { withStores } from './context.js';
import { conflict, notFound, stillOwnsRepositories, usageError } from './errors.js';
import { userJson } from './json.js';
import { printJson, printTable, shortTime } from './output.js';
import { confirm, readPassword, type PasswordOptions } from './prompt.js';

const PASSWORD_HELP = 'the password (visible in `ps`; prefer --password-stdin or the prompt)';

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('manage user accounts (the first administrator is made here)');

  user
    .command('create')
    .description('create a user; prints its name')
    .argument('<name>', 'login name (shares one namespace with organisations)')
    .requiredOption('--email <email>', 'e-mail address')
    .option('--password <password>', PASSWORD_HELP)
    .option('--password-stdin', 'read the password from stdin')
    .option('--full-name <name>', 'display name', '')
    .option('--admin', 'make it a site administrator')
    .action(async (name: string, options: PasswordOptions & { email: string; fullName: string; admin?: boolean }) => {
      await withStores(async ({ accounts }) => {
        if (await accounts.getOwner(name)) throw conflict(`the name ${JSON.stringify(name)} is already taken by a user or an organisation`);
        const password = await readPassword(options, name);
        const created = await accounts.createUser({
          name,
          email: options.email,
          password,
          fullName: options.fullName,
          isAdmin: options.admin === true,
        });
        process.stdout.write(`${created.name}\n`);
        process.stderr.write(`created ${created.isAdmin ? 'site administrator' : 'user'} ${created.name} <${created.email}>\n`);
      });
    });

  user
    .command('list')
    .description('list every user')
    .option('--json', "print a JSON array (the REST API's user shape)")
    .action(async (options: { json?: boolean }) => {
      await withStores(async ({ accounts, baseUrl }) => {
        const users = await accounts.listUsers();
        if (options.json) return printJson(users.map((found) => userJson(found, baseUrl)));
        printTable(
          ['name', 'email', 'admin', 'full name', 'created'],
          users.map((found) => ({
            name: found.name,
            email: found.email,
            admin: found.isAdmin ? 'yes' : 'no',
            'full name': found.fullName,
            created: shortTime(found.createdAt),
          })),
          'no users',
        );
      });
    });

  user
    .command('delete')
    .description('delete a user with its tokens, sessions, memberships and grants (refused while it owns repositories)')
    .argument('<name>')
    .option('--yes', 'do not ask for confirmation')
    .action(async (name: string, options: { yes?: boolean }) => {
      await withStores(async ({ accounts, registry, stores }) => {
        const found = await accounts.getUser(name);
        if (!found) throw notFound(`user ${name} not found`);
        await refuseWhileOwningRepositories(registry, { kind: 'user', user: found }).catch(stillOwnsRepositories('user'));
        if (!(await confirm(options.yes, `delete user ${found.name}`, found.name))) throw usageError('not confirmed; nothing deleted');
        await deleteUser({ accounts, registry, kv: stores.kv }, found);
        process.stderr.write(`deleted user ${found.name}\n`);
      });
    });

  user
    .command('set-admin')
    .description('grant or withdraw site administration')
    .argument('<name>')
    .argument('<admin>', 'true or false')
    .action(async (name: string, admin: string) => {
      if (admin !== 'true' && admin !== 'false') throw usageError(`expected true or false, got ${JSON.stringify(admin)}`);
      await withStores(async ({ accounts }) => {
        const updated = await accounts.updateUser(name, { isAdmin: admin === 'true' });
        process.stderr.write(`${updated.name} is ${updated.isAdmin ? 'now' : 'no longer'} a site administrator\n`);
      });
    });

  user
    .command('set-password')
    .description("replace a user's password")
    .argument('<name>')
    .option('--password <password>', PASSWORD_HELP)
    .option('--password-stdin', 'read the password from stdin')
    .action(async (name: string, options: PasswordOptions) => {
      await withStores(async ({ accounts }) => {
        const found = await accounts.getUser(name);
        if (!found) throw notFound(`user ${name} not found`);
        await accounts.updateUser(found.name, { password: await readPassword(options, found.name) });
        process.stderr.write(`password of ${found.name} changed\n`);
      });
    });
}
