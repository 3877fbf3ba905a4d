/** Web sessions: a random cookie value, stored as its SHA-256 with the user and an expiry. */
import { randomBytes } from 'node:crypto';
import { ACCOUNTS_SCOPE, keySuffix, keys } from './keys.js';
import type { AccountsContext } from './context.js';
import { loadUser } from './loaders.js';
import { parseStoredSession, parseStoredUser, publicUser, type StoredSession } from './records.js';
import { sha256Hex } from './secrets.js';
import { transact } from './transaction.js';
import { InvalidAccountInput, type Actor, type User } from './types.js';
import { getStoredUser } from './users.js';

export const DEFAULT_SESSION_TTL_MS = 14 * 24 * 60 * 60 * 1000;
const MAX_COOKIE_LENGTH = 512;

export async function createSession(
  ctx: AccountsContext,
  userName: string,
  options: { ttlMs?: number } = {},
): Promise<{ cookieValue: string; expiresAt: string }> {
  const created = await createSessionFor(ctx, userName, options.ttlMs);
  // Only a sign-in (expecting a password) can find none.
  if (!created) throw new Error(`accounts: no session created for ${userName}`);
  return created;
}

/**
 * Signs in: a session when the password is right, undefined otherwise. The session is made
 * only while the password verified is still the user's: a password changed in between (which
 * ends the user's sessions) leaves this sign-in without one.
 */
export async function signIn(
  ctx: AccountsContext,
  userName: string,
  password: string,
  options: { ttlMs?: number } = {},
): Promise<{ user: User; cookieValue: string; expiresAt: string } | undefined> {
  const stored = await getStoredUser(ctx, userName);
  if (!(await ctx.passwords.verify(stored?.passwordHash, password)) || !stored) return undefined;
  const created = await createSessionFor(ctx, stored.name, options.ttlMs, stored.passwordHash);
  return created && { user: publicUser(stored), ...created };
}

async function createSessionFor(
  ctx: AccountsContext,
  userName: string,
  ttlMsOption: number | undefined,
  verifiedPasswordHash?: string,
): Promise<{ cookieValue: string; expiresAt: string } | undefined> {
  const ttlMs = ttlMsOption ?? DEFAULT_SESSION_TTL_MS;
  if (!Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new InvalidAccountInput(`invalid session lifetime ${ttlMs}: must be a positive number of milliseconds`);
  const cookieValue = randomBytes(32).toString('base64url');
  const hash = sha256Hex(cookieValue);
  return transact(ctx.kv, `creating a session for ${userName}`, async (tx) => {
    const user = await loadUser(tx, userName);
    if (verifiedPasswordHash !== undefined && user.passwordHash !== verifiedPasswordHash) return undefined;
    const now = ctx.now();
    const session: StoredSession = {
      user: user.name,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
    };
    // Expired sessions nobody presents again would stay forever: drop the user's at each sign-in.
    const expired = (await tx.scan(keys.userSessions(user.name))).filter(({ value }) => Date.parse(value) <= now.getTime());
    const expiredHashes = expired.map(({ key }) => keySuffix(key, keys.userSessions(user.name)));
    await tx.getMany(expiredHashes.map((old) => keys.session(old)));
    for (const { key } of expired) tx.delete(key);
    for (const old of expiredHashes) tx.delete(keys.session(old));

    tx.guard(keys.user(user.name));
    tx.create(keys.session(hash), JSON.stringify(session));
    tx.create(keys.userSession(user.name, hash), session.expiresAt);
    await tx.bump(keys.userRevision(user.name));
    return { cookieValue, expiresAt: session.expiresAt };
  });
}

/** The actor for a session cookie; undefined when unknown, expired (then deleted) or its user is gone. */
export async function authenticateSession(ctx: AccountsContext, cookieValue: string): Promise<Actor | undefined> {
  if (typeof cookieValue !== 'string' || cookieValue.length === 0 || cookieValue.length > MAX_COOKIE_LENGTH) return undefined;
  const key = keys.session(sha256Hex(cookieValue));
  const value = await ctx.kv.get(ACCOUNTS_SCOPE, key);
  if (value === undefined) return undefined;
  const session = parseStoredSession(key, value);
  if (Date.parse(session.expiresAt) <= ctx.now().getTime()) {
    await deleteSession(ctx, cookieValue);
    return undefined;
  }
  const user = await ctx.kv.get(ACCOUNTS_SCOPE, keys.user(session.user));
  if (user === undefined) return undefined;
  return { user: publicUser(parseStoredUser(keys.user(session.user), user)), via: 'session', scopes: 'all' };
}

/** Signs out: nothing to do for an unknown cookie. */
export async function deleteSession(ctx: AccountsContext, cookieValue: string): Promise<void> {
  if (typeof cookieValue !== 'string' || cookieValue.length === 0 || cookieValue.length > MAX_COOKIE_LENGTH) return;
  const hash = sha256Hex(cookieValue);
  await transact(ctx.kv, 'deleting a session', async (tx) => {
    const value = await tx.get(keys.session(hash));
    if (value === undefined) return;
    const session = parseStoredSession(keys.session(hash), value);
    await tx.get(keys.userSession(session.user, hash));
    tx.delete(keys.session(hash));
    tx.delete(keys.userSession(session.user, hash));
  });
}
