import type { Repository, Stores } from './repository.js';

/** Thrown for owner/repository names that are not allowed (traversal, control characters…). */
export declare class InvalidRepositoryName extends Error {}
export declare class RepositoryExists extends Error {}

/**
 * Owner and name: 1–100 characters of [A-Za-z0-9._-], not starting with '.' or '-',
 * not ending in ".git", not "." or "..". Throws InvalidRepositoryName.
 */
export declare function validateRepositoryName(owner: string, name: string): void;

/** The global table owner/name → repository, in the KV store. */
export declare class RepositoryRegistry {
  constructor(stores: Stores);
  /** Creates an empty repository whose HEAD is refs/heads/<defaultBranch> (default "main"). */
  create(owner: string, name: string, options?: { defaultBranch?: string }): Promise<Repository>;
  open(owner: string, name: string): Promise<Repository | undefined>;
}
