/** Personal access tokens: shown once, stored as the SHA-256 of the secret, with scopes and an optional expiry. */
import { ACCOUNTS_SCOPE, keys } from './keys.js';
import type { AccountsContext } from './context.js';
import { loadUser } from './loaders.js';
import { isWellFormedName, validateExpiry, validateScopes, validateTokenName } from './names.js';
import { parseStoredToken, publicUser, parseStoredUser, type StoredToken } from './records.js';
import { randomBase62, sha256Hex } from './secrets.js';
import { nextId, transact } from './transaction.js';
import { AccountConflict, AccountNotFound, InvalidAccountInput, type Actor, type TokenInfo, type TokenScope } from './types.js';

export const TOKEN_PREFIX = 'gf_';
export const MIN_SUPPLIED_SECRET_LENGTH = 32;
/** Longer "secrets" are not ours; hashing them would only cost time. */
const MAX_SECRET_LENGTH = 512;

function tokenInfo(stored: StoredToken): TokenInfo {
  const { id, user, name, scopes, createdAt, expiresAt, lastEight } = stored;
  return { id, user, name, scopes: [...scopes], createdAt, ...(expiresAt === undefined ? {} : { expiresAt }), lastEight };
}

function validateSuppliedSecret(value: unknown): string {
  if (typeof value !== 'string' || value.length < MIN_SUPPLIED_SECRET_LENGTH || value.length > MAX_SECRET_LENGTH || /\s/.test(value)) {
    throw new InvalidAccountInput(
      `invalid token secret: must be ${MIN_SUPPLIED_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters without spaces`,
    );
  }
  return value;
}

export async function createToken(
  ctx: AccountsContext,
  userName: string,
  input: { name: string; scopes: readonly TokenScope[]; expiresAt?: string; secret?: string },
): Promise<{ token: string; info: TokenInfo }> {
  const name = validateTokenName(input.name);
  const scopes = validateScopes(input.scopes);
  const expiresAt = validateExpiry(input.expiresAt, ctx.now());
  const secret = input.secret === undefined ? TOKEN_PREFIX + randomBase62(40) : validateSuppliedSecret(input.secret);
  const hash = sha256Hex(secret);
  return transact(ctx.kv, `creating token ${name} of ${userName}`, async (tx) => {
    if (isWellFormedName(userName)) {
      await tx.getMany([
        keys.user(userName),
        keys.tokenName(userName, name),
        keys.token(hash),
        keys.sequence('token'),
        keys.userRevision(userName),
      ]);
    }
    const user = await loadUser(tx, userName);
    if ((await tx.get(keys.tokenName(user.name, name))) !== undefined) {
      throw new AccountConflict(`user ${user.name} already has a token named ${name}`);
    }
    if ((await tx.get(keys.token(hash))) !== undefined) throw new AccountConflict('this token secret is already registered');
    const stored: StoredToken = {
      id: await nextId(tx, keys.sequence('token')),
      user: user.name,
      name,
      scopes,
      createdAt: ctx.now().toISOString(),
      ...(expiresAt === undefined ? {} : { expiresAt }),
      lastEight: secret.slice(-8),
    };
    tx.guard(keys.user(user.name));
    tx.create(keys.token(hash), JSON.stringify(stored));
    tx.create(keys.userToken(user.name, stored.id), hash);
    tx.create(keys.tokenName(user.name, name), stored.id);
    await tx.bump(keys.userRevision(user.name));
    return { token: secret, info: tokenInfo(stored) };
  });
}

/** The user's tokens (expired ones included, so they can be seen and revoked), oldest first. */
export async function listTokens(ctx: AccountsContext, userName: string): Promise<TokenInfo[]> {
  const [user, entries] = isWellFormedName(userName)
    ? await Promise.all([ctx.kv.get(ACCOUNTS_SCOPE, keys.user(userName)), ctx.kv.scan(ACCOUNTS_SCOPE, keys.userTokens(userName))])
    : [undefined, []];
  if (user === undefined) throw new AccountNotFound(`user ${userName} not found`);
  const tokenKeys = entries.map(({ value: hash }) => keys.token(hash));
  const tokens = await ctx.kv.getMany(ACCOUNTS_SCOPE, tokenKeys);
  return tokenKeys
    .flatMap((key) => {
      const value = tokens.get(key);
      return value === undefined ? [] : [tokenInfo(parseStoredToken(key, value))];
    })
    .sort((a, b) => Number(a.id) - Number(b.id));
}

/** Revokes the user's token with this id, or else with this name; AccountNotFound when neither. */
export async function revokeToken(ctx: AccountsContext, userName: string, idOrName: string): Promise<void> {
  await transact(ctx.kv, `revoking token ${idOrName} of ${userName}`, async (tx) => {
    const user = await loadUser(tx, userName);
    const byId = /^[0-9]+$/.test(idOrName) ? await tx.get(keys.userToken(user.name, idOrName)) : undefined;
    let hash = byId;
    let tokenId = idOrName;
    if (hash === undefined && typeof idOrName === 'string' && idOrName.length <= 100) {
      const named = await tx.get(keys.tokenName(user.name, idOrName));
      if (named !== undefined) {
        tokenId = named;
        hash = await tx.get(keys.userToken(user.name, named));
      }
    }
    if (hash === undefined) throw new AccountNotFound(`user ${user.name} has no token ${idOrName}`);
    const value = await tx.get(keys.token(hash));
    if (value !== undefined) {
      const stored = parseStoredToken(keys.token(hash), value);
      await tx.get(keys.tokenName(user.name, stored.name));
      tx.delete(keys.tokenName(user.name, stored.name));
      tx.delete(keys.token(hash));
    }
    tx.delete(keys.userToken(user.name, tokenId));
  });
}

/** The actor for a token secret; undefined when unknown, revoked, expired, or its user is gone. */
export async function authenticateToken(ctx: AccountsContext, secret: string): Promise<Actor | undefined> {
  if (typeof secret !== 'string' || secret.length === 0 || secret.length > MAX_SECRET_LENGTH) return undefined;
  const key = keys.token(sha256Hex(secret));
  const value = await ctx.kv.get(ACCOUNTS_SCOPE, key);
  if (value === undefined) return undefined;
  const token = parseStoredToken(key, value);
  if (token.expiresAt !== undefined && Date.parse(token.expiresAt) <= ctx.now().getTime()) return undefined;
  const user = await ctx.kv.get(ACCOUNTS_SCOPE, keys.user(token.user));
  if (user === undefined) return undefined;
  return { user: publicUser(parseStoredUser(keys.user(token.user), user)), via: 'token', scopes: [...token.scopes] };
}
