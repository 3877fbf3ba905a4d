/** Loading a user or organisation inside a transaction: its record key is read, so writes can expect it. */
import { keys } from './keys.js';
import { isWellFormedName } from './names.js';
import { parseOrganization, parseStoredUser, type StoredUser } from './records.js';
import type { Transaction } from './transaction.js';
import { AccountNotFound, type Organization } from './types.js';

export async function loadUser(tx: Transaction, name: string): Promise<StoredUser> {
  const value = isWellFormedName(name) ? await tx.get(keys.user(name)) : undefined;
  if (value === undefined) throw new AccountNotFound(`user ${name} not found`);
  return parseStoredUser(keys.user(name), value);
}

export async function loadOrganization(tx: Transaction, name: string): Promise<Organization> {
  const value = isWellFormedName(name) ? await tx.get(keys.org(name)) : undefined;
  if (value === undefined) throw new AccountNotFound(`organization ${name} not found`);
  return parseOrganization(keys.org(name), value);
}
