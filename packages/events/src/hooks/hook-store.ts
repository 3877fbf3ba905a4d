import type { KVStore } from '@gitfleet/storage';
import { clearScope } from '../clear-scope.js';
import type { Hook, HookSettings, HookTarget } from './hook.js';

/**
 * Hooks in the KV store.
 *
 * - scope `hooks` (global): `last-hook-id` → the last hook id handed out (ids are global, as
 *   GitHub's are, since X-GitHub-Hook-ID names a hook without its repository).
 * - scope `hooks:repo:<repository id>` (a repository's hooks: they follow it through renames) or
 *   `hooks:owner-id:<account id>` (an owner's hooks; ids are never reused, so an owner registered
 *   under the name of a deleted one never sees its hooks):
 *     `hook:<id, zero-padded>` → JSON Hook
 *   and the delivery log of those hooks (see delivery-log.ts).
 * Hooks live apart from the repository's refs so that a busy delivery log never weighs on the
 * scope (the shard, in a Redis Cluster) that ref updates need.
 */
const COUNTER_SCOPE = 'hooks';
const COUNTER_KEY = 'last-hook-id';
const HOOK_PREFIX = 'hook:';
/** Attempts of a compare-and-swap loop before giving up: only hot contention needs more than one. */
const CAS_ATTEMPTS = 50;

const repositoryHooksScope = (repositoryId: string) => `hooks:repo:${repositoryId}`;
const ownerHooksScope = (ownerId: string) => `hooks:owner-id:${ownerId}`;

export function hookScope(target: HookTarget): string {
  return target.kind === 'repository' ? repositoryHooksScope(target.repositoryId) : ownerHooksScope(target.ownerId);
}

/** Every scope the hooks of these repositories and owners (and the hook id counter) live in: what a copy of all hooks must read. */
export function hookScopes(repositoryIds: readonly string[], ownerIds: readonly string[]): string[] {
  return [COUNTER_SCOPE, ...repositoryIds.map(repositoryHooksScope), ...ownerIds.map(ownerHooksScope)];
}

export function hookKey(id: number): string {
  return `${HOOK_PREFIX}${String(id).padStart(12, '0')}`;
}

export class HookStore {
  constructor(private readonly kv: KVStore) {}

  async create(target: HookTarget, settings: HookSettings): Promise<Hook> {
    const id = await this.nextId();
    const now = new Date().toISOString();
    const hook: Hook = {
      id,
      target,
      ...settings,
      createdAt: now,
      updatedAt: now,
      lastResponse: { code: null, status: 'unused', message: null },
      consecutiveFailures: 0,
    };
    const { conflicts } = await this.kv.compareAndSwap(
      hookScope(target),
      [{ key: hookKey(id), expect: null, value: JSON.stringify(hook) }],
      'all',
    );
    if (conflicts.length > 0) throw new Error(`hook ${id} already exists in ${hookScope(target)}: the hook id counter went backwards`);
    return hook;
  }

  async get(target: HookTarget, id: number): Promise<Hook | undefined> {
    if (!Number.isSafeInteger(id) || id <= 0) return undefined;
    const value = await this.kv.get(hookScope(target), hookKey(id));
    return value === undefined ? undefined : (JSON.parse(value) as Hook);
  }

  /** Every hook of the target, oldest first. */
  async list(target: HookTarget): Promise<Hook[]> {
    const entries = await this.kv.scan(hookScope(target), HOOK_PREFIX);
    return entries.map(({ value }) => JSON.parse(value) as Hook);
  }

  /**
   * Applies `change` to the current hook atomically (re-reading and retrying when someone else
   * wrote it in between). Returns the hook as written, or undefined when there is no such hook.
   */
  async update(target: HookTarget, id: number, change: (hook: Hook) => Hook): Promise<Hook | undefined> {
    const scope = hookScope(target);
    const key = hookKey(id);
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const current = await this.kv.get(scope, key);
      if (current === undefined) return undefined;
      const next = change(JSON.parse(current) as Hook);
      const value = JSON.stringify(next);
      if (value === current) return next;
      const { conflicts } = await this.kv.compareAndSwap(scope, [{ key, expect: current, value }], 'all');
      if (conflicts.length === 0) return next;
    }
    throw new Error(`hook ${id} in ${scope}: gave up updating it after ${CAS_ATTEMPTS} concurrent changes`);
  }

  /** Removes the hook; false when it did not exist. */
  async delete(target: HookTarget, id: number): Promise<boolean> {
    const scope = hookScope(target);
    const key = hookKey(id);
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const current = await this.kv.get(scope, key);
      if (current === undefined) return false;
      const { conflicts } = await this.kv.compareAndSwap(scope, [{ key, expect: current, value: null }], 'all');
      if (conflicts.length === 0) return true;
    }
    throw new Error(`hook ${id} in ${scope}: gave up deleting it after ${CAS_ATTEMPTS} concurrent changes`);
  }

  /**
   * Removes every hook of the target and their delivery logs (the repository or the owner is
   * being deleted). A delivery finishing meanwhile records nothing: its hook is gone.
   */
  async deleteAll(target: HookTarget): Promise<void> {
    await clearScope(this.kv, hookScope(target));
  }

  private async nextId(): Promise<number> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const current = await this.kv.get(COUNTER_SCOPE, COUNTER_KEY);
      const next = Number(current ?? '0') + 1;
      const { conflicts } = await this.kv.compareAndSwap(
        COUNTER_SCOPE,
        [{ key: COUNTER_KEY, expect: current ?? null, value: String(next) }],
        'all',
      );
      if (conflicts.length === 0) return next;
    }
    throw new Error(`hook ids: gave up after ${CAS_ATTEMPTS} concurrent creations`);
  }
}
