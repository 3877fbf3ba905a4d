import { HEAD_KEY, REGISTRY_SCOPE, REPO_KEY_PREFIX, newRepositoryId, registryKey, repositoryScope } from './keys.js';
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

/** The global table owner/name → repository, in the KV store. */
export class RepositoryRegistry {
  constructor(private readonly stores: Stores) {}

  /** Creates an empty repository whose HEAD is refs/heads/<defaultBranch> (default "main"). */
  async create(owner: string, name: string, options: { defaultBranch?: string } = {}): Promise<Repository> {
    validateRepositoryName(owner, name);
    const head = `refs/heads/${options.defaultBranch ?? 'main'}`;
    assertValidRefName(head);

    const info: RepositoryInfo = { id: newRepositoryId(), owner, name, createdAt: new Date().toISOString() };
    // HEAD first, in the fresh scope nobody else knows yet: once the registry entry exists the
    // repository is complete. Losing the race below leaves only this one key behind, unreachable.
    await this.stores.kv.compareAndSwap(repositoryScope(info.id), [{ key: HEAD_KEY, expect: null, value: head }], 'all');
    const { conflicts } = await this.stores.kv.compareAndSwap(
      REGISTRY_SCOPE,
      [{ key: registryKey(owner, name), expect: null, value: JSON.stringify(info) }],
      'all',
    );
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
}

function parseInfo(value: string): RepositoryInfo {
  const info = JSON.parse(value) as Partial<RepositoryInfo>;
  if (typeof info.id !== 'string' || typeof info.owner !== 'string' || typeof info.name !== 'string' || typeof info.createdAt !== 'string') {
    throw new Error(`repository registry: malformed entry ${value.slice(0, 200)}`);
  }
  return info as RepositoryInfo;
}
