import type { PackIndex } from '@gitfleet/git-format';
import type { CasOp } from '@gitfleet/storage';
import {
  deletingKey,
  idxBlobKey,
  packBlobKey,
  packKey,
  parsePackRecord,
  repositoryScope,
  type PackKind,
  type PackRecord,
} from '../keys.js';
import { LoopPacer } from '../loop-pacer.js';
import type { Repository } from '../repository.js';
import { MaintenanceLease } from './lease.js';

/** A pack maintenance wrote and made durable in the blob store, to be registered. */
export interface PackToPublish {
  checksum: string;
  size: number;
  /** Its parsed idx (PackAccess.store returns it). */
  index: PackIndex;
  kind: PackKind;
  sidecars?: string[];
}

/** The registry changed under maintenance: a pack it replaces is no longer the pack it read, or a new pack is registered already. */
export class PublishConflictError extends Error {
  override name = 'PublishConflictError';
}

/** A replacement that would drop objects: maintenance refuses to publish it. */
export class ObjectLossError extends Error {
  override name = 'ObjectLossError';
}

/**
 * Registers `added` and retires `replaced` in ONE compare-and-swap of the repository's scope that
 * also expects each replaced record as read and the lease unchanged, so that readers see either
 * the old packs or the new ones, never a registry missing objects, and a runner that lost its
 * lease publishes nothing.
 *
 * THE INVARIANT — maintenance never removes an object — is enforced here: every object of every
 * replaced pack must be in one of the packs published with it (for a full repack, the clone
 * pack, the rest pack and the cruft pack), or nothing is published. Together with the grace period
 * (a retired pack's blobs stay readable longer than any view of the registry and any request
 * lasts, see collector.ts), a push that checked connectivity against, or completed a thin pack
 * from, an object of a pack being retired still finds that object: in the retired pack during the
 * grace period, and in its replacement in every view read after the CAS. The same keeps the base
 * of a rest pack's delta that lies in its clone pack readable for as long as the rest pack is
 * active: a reader finds a ref-delta's base by id in whichever pack holds it.
 */
export async function publishPacks(
  repo: Repository,
  lease: MaintenanceLease,
  publication: { added: readonly PackToPublish[]; replaced: readonly string[]; now?: () => number },
): Promise<{ retired: string[] }> {
  const { added } = publication;
  if (added.length === 0) throw new RangeError('publishing packs: nothing to add');
  const scope = repositoryScope(repo.info.id);
  // A pack written again byte for byte (a full repack of a repository repacked already, with no
  // push since) stays: its record takes the new kind, sidecars and place in the order, and it is
  // not retired.
  const rewritten = new Set(publication.replaced.filter((checksum) => added.some((pack) => pack.checksum === checksum)));
  const replaced = publication.replaced.filter((checksum) => !rewritten.has(checksum));

  const current = await repo.stores.kv.getMany(scope, [
    ...publication.replaced.map(packKey),
    ...added.filter((pack) => !rewritten.has(pack.checksum)).map((pack) => packKey(pack.checksum)),
  ]);
  for (const checksum of publication.replaced) {
    const value = current.get(packKey(checksum));
    if (value === undefined) throw new PublishConflictError(`${scope}: pack ${checksum} to be replaced is not registered`);
    if (parsePackRecord(value, checksum, scope).retiredAt !== undefined) {
      throw new PublishConflictError(`${scope}: pack ${checksum} to be replaced is retired already`);
    }
  }
  await assertNoObjectLost(repo, added, replaced);
  await assertStored(repo, added);

  const publishedAt = (publication.now ?? Date.now)();
  const retiredAt = new Date(publishedAt).toISOString();
  // Listed in the order given, the first newest, whether new, rewritten or revived: a full
  // repack's rest pack, whose deltas may name bases in its clone pack, comes after it in an
  // outgoing pack, as a delta after its base.
  const createdAt = (i: number) => new Date(publishedAt - i).toISOString();
  const successor = added[0].checksum;
  const revived = new Set<string>();
  await lease.fenced(async (leaseValue) => {
    const ops: CasOp[] = [MaintenanceLease.fence(leaseValue)];
    for (const [i, pack] of added.entries()) {
      const before = current.get(packKey(pack.checksum));
      if (rewritten.has(pack.checksum) && before !== undefined) {
        const updated = withKindAndSidecars({ ...parsePackRecord(before, pack.checksum, scope), createdAt: createdAt(i) }, pack);
        ops.push({ key: packKey(pack.checksum), expect: before, value: JSON.stringify(updated) });
        continue;
      }
      const retired = before === undefined ? undefined : parsePackRecord(before, pack.checksum, scope);
      if (before !== undefined && retired?.retiredAt !== undefined) {
        ops.push(revival(pack, retired, before, createdAt(i)));
        revived.add(pack.checksum);
        continue;
      }
      const record: PackRecord = { size: pack.size, objects: pack.index.objectCount, createdAt: createdAt(i), kind: pack.kind };
      if (pack.sidecars?.length) record.sidecars = pack.sidecars;
      // A mark left by a collector that stopped while deleting blobs of the same pack (an earlier
      // run stored it and never published it): those blobs are not to be trusted. maintainRepository
      // collects before it stores, which finishes such a deletion, so only a caller that skips
      // that step meets the mark, and it gets a PublishConflictError, never a pack without blobs.
      ops.push({
        key: packKey(pack.checksum),
        expect: null,
        value: JSON.stringify(record),
        requireAbsent: { keys: [deletingKey(pack.checksum)] },
      });
    }
    for (const checksum of replaced) {
      const value = current.get(packKey(checksum))!;
      const record: PackRecord = { ...parsePackRecord(value, checksum, scope), retiredAt, replacedBy: successor };
      ops.push({ key: packKey(checksum), expect: value, value: JSON.stringify(record) });
    }
    const { conflicts } = await repo.stores.kv.compareAndSwap(scope, ops, 'all');
    if (conflicts.length === 0) return;
    if (conflicts[0] === 0) throw lease.lost('publishing packs');
    const marked = await repo.stores.kv.getMany(
      scope,
      added.map((pack) => deletingKey(pack.checksum)),
    );
    const reasons = conflicts.map((at) => {
      if (at > added.length) return `pack ${replaced[at - 1 - added.length]} changed`;
      const { checksum } = added[at - 1];
      if (rewritten.has(checksum) || revived.has(checksum)) return `pack ${checksum} changed`;
      return marked.has(deletingKey(checksum))
        ? `the blobs of pack ${checksum} are marked for deletion by a collection that did not finish (a maintenance run finishes it)`
        : `pack ${checksum} is registered already`;
    });
    throw new PublishConflictError(`${scope}: publishing packs: ${reasons.join('; ')}`);
  });
  await repo.packs.refresh();
  return { retired: replaced };
}

/** `record` with the kind of `pack` as published now, and the sidecars of both (the collector deletes what a record lists). */
function withKindAndSidecars(record: PackRecord, pack: PackToPublish): PackRecord {
  const sidecars = [...new Set([...(record.sidecars ?? []), ...(pack.sidecars ?? [])])];
  return { ...record, kind: pack.kind, ...(sidecars.length > 0 ? { sidecars } : {}) };
}

/**
 * The CAS op that makes a retired pack active again: maintenance wrote it byte for byte once more
 * within its grace period (a full repack after a ref came back to where an earlier repack found
 * it). Its blobs were just stored again under the same keys, so it gets the record of a pack
 * published now (with the sidecars of both, for the collector); the op expects the retired record
 * as read and no deletion mark, so a collector that marked it first wins and nothing is published.
 */
function revival(pack: PackToPublish, retired: PackRecord, expect: string, createdAt: string): CasOp {
  const record: PackRecord = { size: pack.size, objects: pack.index.objectCount, createdAt, kind: pack.kind, sidecars: retired.sidecars };
  return {
    key: packKey(pack.checksum),
    expect,
    value: JSON.stringify(withKindAndSidecars(record, pack)),
    requireAbsent: { keys: [deletingKey(pack.checksum)] },
  };
}

async function assertNoObjectLost(repo: Repository, added: readonly PackToPublish[], replaced: readonly string[]): Promise<void> {
  const pacer = new LoopPacer();
  for (const checksum of replaced) {
    const index = await repo.packs.index(checksum);
    for (const { oid } of index.entries()) {
      await pacer.step();
      if (!added.some((pack) => pack.index.find(oid) !== undefined)) {
        throw new ObjectLossError(
          `repository ${repo.info.id}: replacing pack ${checksum} would lose object ${oid}: none of ${added.map((p) => p.checksum).join(', ')} has it`,
        );
      }
    }
  }
}

async function assertStored(repo: Repository, added: readonly PackToPublish[]): Promise<void> {
  for (const pack of added) {
    for (const key of [packBlobKey(repo.info.id, pack.checksum), idxBlobKey(repo.info.id, pack.checksum)]) {
      if ((await repo.stores.blobs.head(key)) === undefined) throw new Error(`publishing pack ${pack.checksum}: ${key} is not stored`);
    }
  }
}
