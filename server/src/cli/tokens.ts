import type { Command } from 'commander';
import { TOKEN_SCOPES, type TokenScope } from '@gitfleet/accounts';
import { withStores } from './context.js';
import { notFound, usageError } from './errors.js';
import { tokenJson } from './json.js';
import { printJson, printTable, shortTime } from './output.js';

const DEFAULT_SCOPES = 'read:repository,write:repository';
const UNIT_MS = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('manage personal access tokens (for git over HTTP and the REST API)');

  token
    .command('create')
    .description('create a token; prints its secret once on stdout (it is stored only as a hash)')
    .argument('<user>')
    .requiredOption('--name <name>', 'what it is for, unique per user (e.g. "laptop", "ci")')
    .option('--scopes <list>', `comma-separated: ${TOKEN_SCOPES.join(', ')}`, DEFAULT_SCOPES)
    .option('--expires <when>', 'a duration (12h, 30d, 4w) or an ISO date; default never')
    .action(async (userName: string, options: { name: string; scopes: string; expires?: string }) => {
      const scopes = parseScopes(options.scopes);
      const expiresAt = options.expires === undefined ? undefined : parseExpiry(options.expires, new Date());
      await withStores(async ({ accounts }) => {
        const owner = await accounts.getUser(userName);
        if (!owner) throw notFound(`user ${userName} not found`);
        const { token: secret, info } = await accounts.createToken(owner.name, { name: options.name, scopes, expiresAt });
        process.stdout.write(`${secret}\n`);
        process.stderr.write(
          `token ${JSON.stringify(info.name)} (id ${info.id}) of ${owner.name}, scopes ${info.scopes.join(',')}, ` +
            `${info.expiresAt ? `expires ${info.expiresAt}` : 'never expires'}. Copy it now: it cannot be shown again.\n`,
        );
      });
    });

  token
    .command('list')
    .description("list a user's tokens (never their secrets)")
    .argument('<user>')
    .option('--json', 'print a JSON array')
    .action(async (userName: string, options: { json?: boolean }) => {
      await withStores(async ({ accounts }) => {
        const owner = await accounts.getUser(userName);
        if (!owner) throw notFound(`user ${userName} not found`);
        const tokens = await accounts.listTokens(owner.name);
        if (options.json) return printJson(tokens.map(tokenJson));
        printTable(
          ['id', 'name', 'scopes', 'created', 'expires'],
          tokens.map((found) => ({
            id: found.id,
            name: found.name,
            scopes: found.scopes.join(','),
            created: shortTime(found.createdAt),
            expires: found.expiresAt ? shortTime(found.expiresAt) : 'never',
          })),
          `${owner.name} has no tokens`,
        );
      });
    });

  token
    .command('revoke')
    .description('revoke a token at once (every server process of the fleet stops accepting it)')
    .argument('<user>')
    .argument('<token>', 'its id or its name')
    .action(async (userName: string, idOrName: string) => {
      await withStores(async ({ accounts }) => {
        const owner = await accounts.getUser(userName);
        if (!owner) throw notFound(`user ${userName} not found`);
        await accounts.revokeToken(owner.name, idOrName);
        process.stderr.write(`revoked token ${idOrName} of ${owner.name}\n`);
      });
    });
}

function parseScopes(list: string): TokenScope[] {
  const scopes = list
    .split(',')
    .map((scope) => scope.trim())
    .filter((scope) => scope !== '');
  if (scopes.length === 0) throw usageError('--scopes: give at least one scope');
  const unknown = scopes.filter((scope) => !(TOKEN_SCOPES as readonly string[]).includes(scope));
  if (unknown.length > 0)
    throw usageError(`--scopes: unknown ${unknown.map((scope) => JSON.stringify(scope)).join(', ')}; known: ${TOKEN_SCOPES.join(', ')}`);
  return [...new Set(scopes)] as TokenScope[];
}

/** "30d" → 30 days after `now`; "2030-01-01" → that instant; always in the future. */
function parseExpiry(text: string, now: Date): string {
  const duration = /^(\d+)([hdw])$/.exec(text);
  const at = duration ? new Date(now.getTime() + Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]) : new Date(text);
  if (!/^\d/.test(text) || Number.isNaN(at.getTime()))
    throw usageError(`--expires: expected a duration such as 30d, 12h, 4w or an ISO date, got ${JSON.stringify(text)}`);
  if (at.getTime() <= now.getTime()) throw usageError(`--expires: ${JSON.stringify(text)} is not in the future`);
  return at.toISOString();
}
