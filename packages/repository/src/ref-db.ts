import { ZERO_OID, isObjectId, type ObjectId } from '@gitfleet/git-format';
import type { CasOp, KVStore } from '@gitfleet/storage';
import { HEAD_KEY, REF_KEY_PREFIX, escapeKeyPart, refKey, refNameFromKey, reflogName, repositoryScope } from './keys.js';
import { assertValidRefName } from './ref-name.js';

export { InvalidRefName, isValidRefName } from './ref-name.js';

export interface Ref {
  name: string;
  oid: ObjectId;
}

export interface RefUpdate {
  name: string;
  /** The id the ref must have now; ZERO_OID means it must not exist. */
  oldOid: ObjectId;
  /** The id to set; ZERO_OID deletes the ref. */
  newOid: ObjectId;
}

export interface ReflogEntry {
  oldOid: ObjectId;
  newOid: ObjectId;
  /** Who and why, e.g. "push" with a user name once accounts exist. */
  message: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
}

/** Refs of one repository, in the KV store. */
export interface RefDB {
  /** Every ref under refs/ (sorted by name), in one round trip. */
  list(prefix?: string): Promise<Ref[]>;
  /** Id of a ref; "HEAD" is followed to its target. */
  get(name: string): Promise<ObjectId | undefined>;
  /** Target of the symbolic ref HEAD, e.g. "refs/heads/main" (it may be unborn). */
  head(): Promise<string>;
  setHead(target: string): Promise<void>;
  /**
   * Compare-and-swap of several refs in one atomic step, with reflog entries.
   * atomic: all or nothing. Otherwise each ref on its own.
   * Throws, changing nothing, for a malformed name (InvalidRefName), a malformed id or a ref named twice.
   * @returns names of refs whose old id did not match (those were not changed).
   */
  update(updates: readonly RefUpdate[], options: { atomic: boolean; message: string }): Promise<string[]>;
  /** Reflog of a ref, oldest first; with `limit`, only the newest `limit` entries. */
  reflog(name: string, limit?: number): Promise<ReflogEntry[]>;
}

export class KVRefDB implements RefDB {
  private readonly scope: string;

  constructor(
    repositoryId: string,
    private readonly kv: KVStore,
  ) {
    this.scope = repositoryScope(repositoryId);
  }

  async list(prefix = 'refs/'): Promise<Ref[]> {
    const entries = await this.kv.scan(this.scope, REF_KEY_PREFIX + escapeKeyPart(prefix));
    const refs = entries.map(({ key, value }) => ({ name: refNameFromKey(key), oid: value }));
    // Escaped keys sort differently from names; git orders refs by their bytes.
    return refs.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  }

  async get(name: string): Promise<ObjectId | undefined> {
    const refName = name === 'HEAD' ? await this.head() : name;
    return this.kv.get(this.scope, refKey(refName));
  }

  async head(): Promise<string> {
    const target = await this.kv.get(this.scope, HEAD_KEY);
    if (target === undefined) throw new Error(`${this.scope}: HEAD is missing`);
    return target;
  }

  async setHead(target: string): Promise<void> {
    assertValidRefName(target);
    // The KV store writes only by compare-and-swap; a lost race with another setHead just retries.
    for (;;) {
      const current = (await this.kv.get(this.scope, HEAD_KEY)) ?? null;
      if (current === target) return;
      const { conflicts } = await this.kv.compareAndSwap(this.scope, [{ key: HEAD_KEY, expect: current, value: target }], 'all');
      if (conflicts.length === 0) return;
    }
  }

  async update(updates: readonly RefUpdate[], options: { atomic: boolean; message: string }): Promise<string[]> {
    const seen = new Set<string>();
    for (const { name, oldOid, newOid } of updates) {
      assertValidRefName(name);
      if (seen.has(name)) throw new Error(`ref update: ${name} is updated twice in one batch`);
      seen.add(name);
      for (const oid of [oldOid, newOid]) {
        if (!isObjectId(oid)) throw new Error(`ref update of ${name}: ${JSON.stringify(oid)} is not an object id`);
      }
    }
    if (updates.length === 0) return [];
    const timestamp = Date.now();
    const ops: CasOp[] = updates.map(({ name, oldOid, newOid }) => {
      const entry: ReflogEntry = { oldOid, newOid, message: options.message, timestamp };
      return {
        key: refKey(name),
        expect: oldOid === ZERO_OID ? null : oldOid,
        value: newOid === ZERO_OID ? null : newOid,
        log: { name: reflogName(name), entry: JSON.stringify(entry) },
      };
    });
    const { conflicts } = await this.kv.compareAndSwap(this.scope, ops, options.atomic ? 'all' : 'each');
    return conflicts.map((i) => updates[i].name);
  }

  async reflog(name: string, limit?: number): Promise<ReflogEntry[]> {
    const entries = await this.kv.readLog(this.scope, reflogName(name), limit === undefined ? undefined : { limit });
    return entries.map((entry) => JSON.parse(entry) as ReflogEntry);
  }
}
