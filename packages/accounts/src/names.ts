/**
 * What a name, email, password and the other free-form inputs may be. Owner names follow the
 * owner rules of the repository registry (validateRepositoryName), re-stated here because
 * accounts must not depend on @gitfleet/repository; the two must stay in step.
 */
import { InvalidAccountInput, PERMISSIONS, TOKEN_SCOPES, type Permission, type TokenScope } from './types.js';

const NAME_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;

/** Top-level paths of the web UI and API: an owner of that name would shadow them. */
export const RESERVED_OWNER_NAMES: ReadonlySet<string> = new Set([
  'api',
  'login',
  'logout',
  'new',
  'organizations',
  'settings',
  'explore',
  'healthz',
  'metrics',
  'admin',
  'assets',
  'static',
  'user',
  'users',
  'orgs',
  'repos',
]);

/** Why `value` is not a well-formed name (owner or team), undefined when it is. */
export function nameProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'not a string';
  if (!NAME_PATTERN.test(value)) return 'use 1 to 100 characters of A-Z, a-z, 0-9, ".", "_" and "-"';
  if (value.startsWith('.') || value.startsWith('-')) return 'must not start with "." or "-"';
  if (value.includes('..')) return 'must not contain ".."';
  if (value.toLowerCase().endsWith('.git')) return 'must not end with ".git"';
  return undefined;
}

/** Whether `value` could name an existing user or organisation (lookups of anything else find nothing). */
export function isWellFormedName(value: unknown): value is string {
  return nameProblem(value) === undefined;
}

export function validateOwnerName(what: 'user' | 'organization', value: unknown): string {
  const problem = nameProblem(value);
  if (problem) throw new InvalidAccountInput(`invalid ${what} name ${JSON.stringify(value)}: ${problem}`);
  const name = value as string;
  if (RESERVED_OWNER_NAMES.has(name.toLowerCase())) {
    throw new InvalidAccountInput(`invalid ${what} name ${JSON.stringify(name)}: the name is reserved`);
  }
  return name;
}

export function validateTeamName(value: unknown): string {
  const problem = nameProblem(value);
  if (problem) throw new InvalidAccountInput(`invalid team name ${JSON.stringify(value)}: ${problem}`);
  return value as string;
}

export function validateEmail(value: unknown): string {
  if (typeof value !== 'string' || value.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(value)) {
    throw new InvalidAccountInput(
      `invalid email ${JSON.stringify(value)}: must be one "@" between a local part and a domain, without spaces`,
    );
  }
  return value;
}

export const MIN_PASSWORD_LENGTH = 8;
/** Hashing cost grows with the input; nobody types a longer password. */
export const MAX_PASSWORD_LENGTH = 1024;

export function validatePassword(value: unknown): string {
  if (typeof value !== 'string' || value.length < MIN_PASSWORD_LENGTH || value.length > MAX_PASSWORD_LENGTH) {
    throw new InvalidAccountInput(`invalid password: must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`);
  }
  return value;
}

/** Display texts (full names, descriptions): bounded, no control characters. */
export function validateText(what: string, value: unknown, maxLength: number): string {
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value.length > maxLength || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new InvalidAccountInput(`invalid ${what}: must be at most ${maxLength} characters without control characters`);
  }
  return value;
}

export function validatePermission(value: unknown): Permission {
  if (!PERMISSIONS.includes(value as Permission)) {
    throw new InvalidAccountInput(`invalid permission ${JSON.stringify(value)}: must be one of ${PERMISSIONS.join(', ')}`);
  }
  return value as Permission;
}

export function validateScopes(value: unknown): TokenScope[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidAccountInput(`invalid token scopes: give at least one of ${TOKEN_SCOPES.join(', ')}`);
  }
  for (const scope of value) {
    if (!TOKEN_SCOPES.includes(scope as TokenScope)) {
      throw new InvalidAccountInput(`invalid token scope ${JSON.stringify(scope)}: must be one of ${TOKEN_SCOPES.join(', ')}`);
    }
  }
  return [...new Set(value as TokenScope[])];
}

export function validateTokenName(value: unknown): string {
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value.trim() === '' || value.length > 100 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new InvalidAccountInput(`invalid token name ${JSON.stringify(value)}: must be 1 to 100 characters without control characters`);
  }
  return value;
}

const REPOSITORY_ID_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;

/** Repository ids come from the registry (hex); anything else cannot be one. */
export function validateRepositoryId(value: unknown): string {
  if (typeof value !== 'string' || !REPOSITORY_ID_PATTERN.test(value)) {
    throw new InvalidAccountInput(`invalid repository id ${JSON.stringify(value)}`);
  }
  return value;
}

export function isWellFormedRepositoryId(value: unknown): value is string {
  return typeof value === 'string' && REPOSITORY_ID_PATTERN.test(value);
}

/** An ISO 8601 instant in the future, normalised; undefined stays undefined. */
export function validateExpiry(value: unknown, now: Date): string | undefined {
  if (value === undefined) return undefined;
  const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) throw new InvalidAccountInput(`invalid expiry ${JSON.stringify(value)}: must be an ISO 8601 date`);
  if (time <= now.getTime()) throw new InvalidAccountInput(`invalid expiry ${JSON.stringify(value)}: already past`);
  return new Date(time).toISOString();
}
