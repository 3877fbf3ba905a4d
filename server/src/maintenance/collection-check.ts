import type { Repository } from '@gitfleet/repository';

export interface CollectionCheckOptions {
  /** How long an answer "nothing to collect" stands for a repository. */
  recheckMs?: number;
  /** Repositories whose answer is remembered at once; the oldest answers go first. */
  maxRepositories?: number;
  now?: () => number;
}

/**
 * Whether a repository has packs to collect (`isDue`: collectionDue, which scans the repository's
 * blob-state keys in the KV store), asked after every push that needs no compaction: a "no" is
 * remembered for a minute per repository, so a busy repository costs one scan a minute rather
 * than one a push.
 *
 * Remembering until the earliest due time the scan saw would not be right: a run of another
 * server that was killed mid-deletion leaves a mark that is due at once. Nothing is lost by
 * asking late: collection only frees storage, hours after a pack was replaced.
 */
export class CollectionCheck {
  /** When each repository was last found with nothing due, oldest first. */
  private readonly notDueAt = new Map<string, number>();
  private readonly recheckMs: number;
  private readonly maxRepositories: number;
  private readonly now: () => number;

  constructor(
    private readonly isDue: (repo: Repository) => Promise<boolean>,
    options: CollectionCheckOptions = {},
  ) {
    this.recheckMs = options.recheckMs ?? 60_000;
    this.maxRepositories = options.maxRepositories ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  async due(repo: Repository): Promise<boolean> {
    const id = repo.info.id;
    const checkedAt = this.notDueAt.get(id);
    if (checkedAt !== undefined && this.now() - checkedAt < this.recheckMs) return false;
    this.notDueAt.delete(id);
    if (await this.isDue(repo)) return true;
    // Re-inserted last: the map stays in the order of the answers, so the first entry is the oldest.
    this.notDueAt.delete(id);
    this.notDueAt.set(id, this.now());
    if (this.notDueAt.size > this.maxRepositories) this.notDueAt.delete(this.notDueAt.keys().next().value!);
    return false;
  }
}
