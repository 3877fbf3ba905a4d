import { RefJournal } from './journal/ref-journal.js';
import { RegistryJournal } from './journal/registry-journal.js';
import {
  DELETED_REPO_KEY_PREFIX,
  HEAD_KEY,
  REGISTRY_SCOPE,
  REPO_KEY_PREFIX,
  deletedRepositoryKey,
  newRepositoryId,
  registryKey,
  repositoryScope,
} from './keys.js';
import { assertValidRefName } from './ref-name.js';
import { Repository, type RepositoryInfo, type Stores } from './repository.js';

/** Thrown for owner/repository names that are not allowed (traversal, control characters…). */
export class InvalidRepositoryName extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRepositoryName';
  }
}

export class RepositoryExists extends Error {
  constructor(
    readonly owner: string,
    readonly repositoryName: string,
  ) {
    super(`repository ${owner}/${repositoryName} already exists`);
    this.name = 'RepositoryExists';
  }
}

const NAME_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * Owner and name: 1–100 characters of [A-Za-z0-9._-], not starting with '.' or '-',
 * not ending in ".git", not containing "..". Throws InvalidRepositoryName.
 * (The character set alone already excludes '/', '\\', NUL, control characters and spaces.)
 */
export function validateRepositoryName(owner: string, name: string): void {
  for (const [what, value] of [
    ['owner', owner],
    ['repository name', name],
  ] as const) {
    const problem = namePartProblem(value);
    if (problem) throw new InvalidRepositoryName(`invalid ${what} ${JSON.stringify(value)}: ${problem}`);
  }
}

function namePartProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'not a string';
  if (!NAME_PATTERN.test(value)) return 'use 1 to 100 characters of A-Z, a-z, 0-9, ".", "_" and "-"';
  if (value.startsWith('.') || value.startsWith('-')) return 'must not start with "." or "-"';
  if (value.includes('..')) return 'must not contain ".."';
  if (value.toLowerCase().endsWith('.git')) return 'must not end with ".git"';
  return undefined;
}

export interface CreateRepositoryOptions {
  /** HEAD becomes refs/heads/<defaultBranch>; default "main". */
  defaultBranch?: string;
  private?: boolean;
  description?: string;
}

/**
 * What `update` may change. `name` renames the repository and `owner` transfers it to another
 * owner (the registry does not know accounts: the caller checks that the owner exists); either
 * way its id, refs and packs stay.
 */
export interface RepositoryPatch {
  private?: boolean;
  description?: string;
  name?: string;
  owner?: string;
}

/** Optimistic retries of `update` before it gives up on a registry entry that keeps changing. */
const UPDATE_ATTEMPTS = 20;
const DELETE_BATCH = 500;

/**
 * The global table owner/name → repository, in the KV store. Every change is journaled in the
 * blob store before it resolves (journal/registry-journal.ts); one applied but not journaled
 * rejects with JournalWriteError.
 */
export class RepositoryRegistry {
  private readonly journal: RegistryJournal;

  constructor(private readonly stores: Stores) {
    this.journal = new RegistryJournal(stores.kv, stores.blobs, stores.journal);
  }

  /** Creates an empty repository whose HEAD is refs/heads/<defaultBranch> (default "main"). */
  async create(owner: string, name: string, options: CreateRepositoryOptions = {}): Promise<Repository> {
    validateRepositoryName(owner, name);
    const head = `refs/heads/${options.defaultBranch ?? 'main'}`;
    assertValidRefName(head);

    const info: RepositoryInfo = {
      id: newRepositoryId(),
      owner,
      name,
      createdAt: new Date().toISOString(),
      private: options.private ?? false,
      description: options.description ?? '',
    };
    // HEAD first, in the fresh scope nobody else knows yet, journaled as the repository's first
    // transaction: once the registry entry exists the repository is complete. Losing the race
    // below leaves only this scope behind, unreachable.
    await new RefJournal(info.id, this.stores.kv, this.stores.blobs, this.stores.journal).swap(
      [{ key: HEAD_KEY, expect: null, value: head }],
      'all',
      () => ({ message: 'create repository', refs: [], head }),
    );
    const { conflicts } = await this.journal.swap([{ key: registryKey(owner, name), expect: null, value: JSON.stringify(info) }]);
    if (conflicts.length > 0) throw new RepositoryExists(owner, name);
    return new Repository(info, this.stores);
  }

  /** The repository, or undefined when none has this name (matched without regard to case). */
  async open(owner: string, name: string): Promise<Repository | undefined> {
    validateRepositoryName(owner, name);
    const value = await this.stores.kv.get(REGISTRY_SCOPE, registryKey(owner, name));
    return value === undefined ? undefined : new Repository(parseInfo(value), this.stores);
  }

  /** Every repository, ordered by lower-cased owner/name. */
  async list(): Promise<RepositoryInfo[]> {
    const entries = await this.stores.kv.scan(REGISTRY_SCOPE, REPO_KEY_PREFIX);
    return entries.map(({ value }) => parseInfo(value));
  }

  /** The repositories of one owner (matched without regard to case), ordered by lower-cased name. */
  async listOwnedBy(owner: string): Promise<RepositoryInfo[]> {
    validateRepositoryName(owner, 'x');
    // Owners cannot contain '/', so this prefix holds exactly this owner's entries.
    const entries = await this.stores.kv.scan(REGISTRY_SCOPE, `${REPO_KEY_PREFIX}${owner.toLowerCase()}/`);
    return entries.map(({ value }) => parseInfo(value));
  }

  /**
   * Changes visibility, description, name or owner of a repository; undefined when it does not
   * exist. A compare-and-swap on the registry entry, retried when someone else changed it
   * meanwhile. A rename or transfer moves the entry to its new key in the same atomic step and
   * keeps the id, so refs, packs and grants keyed by id follow; an existing target name throws
   * RepositoryExists.
   */
  async update(owner: string, name: string, patch: RepositoryPatch): Promise<Repository | undefined> {
    validateRepositoryName(owner, name);
    if (patch.owner !== undefined || patch.name !== undefined) validateRepositoryName(patch.owner ?? owner, patch.name ?? name);
    const oldKey = registryKey(owner, name);
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
      const current = await this.stores.kv.get(REGISTRY_SCOPE, oldKey);
      if (current === undefined) return undefined;
      const info = parseInfo(current);
      const next: RepositoryInfo = {
        ...info,
        owner: patch.owner ?? info.owner,
        name: patch.name ?? info.name,
        private: patch.private ?? info.private,
        description: patch.description ?? info.description,
      };
      const newKey = registryKey(next.owner, next.name);
      const value = JSON.stringify(next);
      const ops =
        newKey === oldKey
          ? [{ key: oldKey, expect: current, value }]
          : [
              { key: oldKey, expect: current, value: null },
              { key: newKey, expect: null, value },
            ];
      const { conflicts } = await this.journal.swap(ops);
      if (conflicts.length === 0) return new Repository(next, this.stores);
      if (conflicts.includes(1)) throw new RepositoryExists(next.owner, next.name);
    }
    throw new Error(`repository registry: ${owner}/${name} kept changing during ${UPDATE_ATTEMPTS} update attempts`);
  }

  /**
   * Deletes a repository: its registry entry first (from then on nobody finds it), then every
   * key of its scope (refs, HEAD, pack records). Its blobs are left for
   * collectDeletedRepositories, which the tombstone written with the registry change tells of, as
   * are the scope's append-only logs, which the KV store cannot delete.
   * Returns false when there was no such repository.
   */
  async delete(owner: string, name: string): Promise<boolean> {
    validateRepositoryName(owner, name);
    const key = registryKey(owner, name);
    const current = await this.stores.kv.get(REGISTRY_SCOPE, key);
    if (current === undefined) return false;
    const info = parseInfo(current);
    const tombstone: DeletedRepository = { id: info.id, owner: info.owner, name: info.name, deletedAt: new Date().toISOString() };
    const { conflicts } = await this.journal.swap([
      { key, expect: current, value: null },
      { key: deletedRepositoryKey(info.id), expect: null, value: JSON.stringify(tombstone) },
    ]);
    // Changed meanwhile (updated, or deleted by someone else): decide again on the fresh entry.
    if (conflicts.length > 0) return this.delete(owner, name);
    const scope = repositoryScope(info.id);
    const entries = await this.stores.kv.scan(scope, '');
    // In slices: a repository may have many thousands of refs, and one CAS carries every key.
    for (let start = 0; start < entries.length; start += DELETE_BATCH) {
      const ops = entries
        .slice(start, start + DELETE_BATCH)
        .map(({ key: entryKey, value }) => ({ key: entryKey, expect: value, value: null }));
      await this.stores.kv.compareAndSwap(scope, ops, 'each');
    }
    return true;
  }

  /** Repositories deleted whose blobs have not been collected yet. */
  async deleted(): Promise<DeletedRepository[]> {
    const entries = await this.stores.kv.scan(REGISTRY_SCOPE, DELETED_REPO_KEY_PREFIX);
    return entries.map(({ value }) => JSON.parse(value) as DeletedRepository);
  }

  /** Forgets a deleted repository once its blobs are collected. */
  async forgetDeleted(deleted: DeletedRepository): Promise<void> {
    await this.journal.swap([{ key: deletedRepositoryKey(deleted.id), expect: JSON.stringify(deleted), value: null }]);
  }
}

/** A deleted repository's tombstone: its blobs are collected after a grace period. */
export interface DeletedRepository {
  id: string;
  owner: string;
  name: string;
  deletedAt: string;
}

function parseInfo(value: string): RepositoryInfo {
  const info = JSON.parse(value) as Partial<RepositoryInfo>;
  if (
    typeof info.id !== 'string' ||
    typeof info.owner !== 'string' ||
    typeof info.name !== 'string' ||
    typeof info.createdAt !== 'string'
  ) {
    throw new Error(`repository registry: malformed entry ${value.slice(0, 200)}`);
  }
  // Entries written before visibility and descriptions existed are public, without description.
  return {
    ...info,
    private: info.private === true,
    description: typeof info.description === 'string' ? info.description : '',
  } as RepositoryInfo;
}
