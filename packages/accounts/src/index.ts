/**
 * Accounts of a Gitfleet server: users, organisations with members and teams, collaborators,
 * access tokens, web sessions, and the one function that decides what someone may do with a
 * repository. Everything lives in the KV store (scope `accounts`), so every server process of a
 * fleet sees the same accounts.
 */
export {
  AccountConflict,
  AccountNotFound,
  InvalidAccountInput,
  PERMISSIONS,
  TOKEN_SCOPES,
  type AccessLevel,
  type Actor,
  type OrgRole,
  type Organization,
  type Owner,
  type Permission,
  type RepositoryRef,
  type Team,
  type TokenInfo,
  type TokenScope,
  type User,
} from './types.js';
export { AccountStore, type AccountStoreOptions } from './account-store.js';
export { argon2Hasher, type PasswordHasher } from './passwords.js';
export { atLeast, hasScope } from './access-levels.js';
export { RESERVED_OWNER_NAMES } from './names.js';
export { MAX_TEAM_DESCRIPTION_LENGTH } from './teams.js';
export { ACCOUNTS_SCOPE } from './keys.js';
export { QuotaStore, QUOTA_KINDS, type StorageQuota } from './quotas.js';
export { DEFAULT_SESSION_TTL_MS } from './sessions.js';
