import {
  FsckError,
  ObjectRejected,
  checkGitmodules,
  commitTreeAndParents,
  fsckObjectLinks,
  PACK_TYPE,
  type ObjectId,
  type ObjectSink,
  type ObjectType,
} from '@gitfleet/git-format';
import { OidSet } from '@gitfleet/repository';
import { TypedLinks } from './typed-links.js';

/** What the checks of a push start from, on every thread that resolves its objects. */
export interface PushCheckInit {
  /** New ref tips of the push: their types are reported. */
  tips: ObjectId[];
  /** Commits the client declared shallow. */
  shallow: ObjectId[];
}

/** What one thread's checks gathered, structured-cloneable, merged into the indexing thread's. */
export interface PushCheckFindings {
  links: { ids: Uint8Array; expected: Uint8Array };
  gitmodules: Uint8Array;
  gitmodulesChecked: ObjectId[];
  tipTypes: [ObjectId, ObjectType][];
  shallowParents: ObjectId[];
}

/** An object of the push that fsck refuses; its message is the reason given to the client. */
export class BadObject extends ObjectRejected {
  override name = 'BadObject';

  constructor(oid: ObjectId, cause: FsckError) {
    super(`fsck error in packed object ${oid}: ${cause.message}`, { cause });
  }
}

/**
 * receive.fsckObjects for each object of a push as it is resolved, and which ids the objects
 * point to, without holding them. Each thread of delta resolution keeps its own (a thread
 * resolves whole delta trees), and the indexing thread merges what the others found.
 */
export class PushObjectChecks {
  // Binary ids: a large pack points at millions of ids, too many for a Set of strings.
  readonly links = new TypedLinks();
  readonly gitmodules = new OidSet();
  readonly gitmodulesChecked = new Set<ObjectId>();
  readonly tipTypes: [ObjectId, ObjectType][] = [];
  readonly shallowParents = new Set<ObjectId>();
  private readonly tips: Set<ObjectId>;
  private readonly shallow: Set<ObjectId>;

  constructor(init: PushCheckInit) {
    this.tips = new Set(init.tips);
    this.shallow = new Set(init.shallow);
  }

  readonly onObject = (oid: ObjectId, type: ObjectType, data: Buffer): void => {
    const shallowCommit = type === 'commit' && this.shallow.has(oid);
    try {
      fsckObjectLinks(type, data, shallowCommit ? IGNORE_LINKS : this.links, this.gitmodules);
      if (type === 'blob' && this.gitmodules.has(oid)) {
        checkGitmodules(data);
        this.gitmodulesChecked.add(oid);
      }
    } catch (error) {
      if (error instanceof FsckError) throw new BadObject(oid, error);
      throw error;
    }
    if (this.tips.has(oid)) this.tipTypes.push([oid, type]);
    if (shallowCommit) {
      const { tree, parents } = commitTreeAndParents(data);
      this.links.link(Buffer.from(tree, 'hex'), 0, PACK_TYPE.tree);
      for (const parent of parents) this.shallowParents.add(parent);
    }
  };

  findings(): PushCheckFindings {
    return {
      links: this.links.toBytes(),
      gitmodules: idBytes(this.gitmodules),
      gitmodulesChecked: [...this.gitmodulesChecked],
      tipTypes: this.tipTypes,
      shallowParents: [...this.shallowParents],
    };
  }

  merge(found: PushCheckFindings): void {
    this.links.addAll(found.links);
    for (let at = 0; at < found.gitmodules.length; at += 20) this.gitmodules.addBytes(found.gitmodules, at);
    for (const oid of found.gitmodulesChecked) this.gitmodulesChecked.add(oid);
    this.tipTypes.push(...found.tipTypes);
    for (const parent of found.shallowParents) this.shallowParents.add(parent);
  }
}

// A client-shallow commit's parents must not count as linked: its tree is added instead.
const IGNORE_LINKS = { link: () => undefined };

function idBytes(set: OidSet): Uint8Array {
  const bytes = new Uint8Array(20 * set.size);
  for (let entry = 0; entry < set.size; entry++) bytes.set(set.bytesAt(entry), 20 * entry);
  return bytes;
}

/** The object sink of the threads that resolve a push's deltas (git-format's ObjectSinkSpec). */
export function createObjectSink(init: unknown): ObjectSink {
  const checks = new PushObjectChecks(init as PushCheckInit);
  return { onObject: checks.onObject, finish: () => checks.findings() };
}
