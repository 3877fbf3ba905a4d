/** The JSON stored under the record keys, and its parsing (a malformed value is an error naming its key). */
import type { Organization, Team, TokenScope, User } from './types.js';

export interface StoredUser extends User {
  passwordHash: string;
}

export interface StoredToken {
  id: string;
  /** The owner's name as spelt on the user. */
  user: string;
  name: string;
  scopes: TokenScope[];
  createdAt: string;
  expiresAt?: string;
  lastEight: string;
}

export interface StoredSession {
  user: string;
  createdAt: string;
  expiresAt: string;
}

export function parseRecord<T extends object>(key: string, value: string, required: readonly (keyof T & string)[]): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error(`accounts: malformed JSON under key ${key}: ${value.slice(0, 200)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || required.some((field) => !(field in parsed))) {
    throw new Error(`accounts: malformed record under key ${key} (needs ${required.join(', ')}): ${value.slice(0, 200)}`);
  }
  return parsed as T;
}

export const parseStoredUser = (key: string, value: string) =>
  parseRecord<StoredUser>(key, value, ['id', 'name', 'email', 'fullName', 'isAdmin', 'createdAt', 'passwordHash']);
export const parseOrganization = (key: string, value: string) =>
  parseRecord<Organization>(key, value, ['id', 'name', 'fullName', 'description', 'createdAt']);
export const parseTeam = (key: string, value: string) =>
  parseRecord<Team>(key, value, ['id', 'org', 'name', 'description', 'permission', 'includesAllRepositories', 'createdAt']);
export const parseStoredToken = (key: string, value: string) =>
  parseRecord<StoredToken>(key, value, ['id', 'user', 'name', 'scopes', 'createdAt', 'lastEight']);
export const parseStoredSession = (key: string, value: string) =>
  parseRecord<StoredSession>(key, value, ['user', 'createdAt', 'expiresAt']);

/** The public view of a user: never the password hash. */
export function publicUser(stored: StoredUser): User {
  const { passwordHash: _hash, ...user } = stored;
  return user;
}
