import { setTimeout as sleep } from 'node:timers/promises';
import type { ObjectId } from '@gitfleet/git-format';
import type { KVStore } from '@gitfleet/storage';
import { clearScope } from '../clear-scope.js';
import type { CommitStatus } from '../payloads/status.js';

/**
 * Commit statuses in the KV store, one scope per repository id (`statuses:<repository id>`, so a
 * clustered store keeps them on one shard, and a repository created later under the same name
 * never sees them):
 *   `seq`                         → the last status id given out in this repository
 *   `total:<sha>`                 → how many statuses the commit has, all contexts together
 *   `latest:<sha>:<context>`      → JSON LatestRecord (context percent-encoded: keys have no spaces)
 *   `status:<sha>:<id, padded>`   → JSON CommitStatus
 * A status is written with its id, its commit's total and its context's latest record by one
 * compare-and-swap; every key of the scope goes when the repository does.
 */

/** The newest status of one sha and context, and how many that pair has had. */
interface LatestRecord {
  status: CommitStatus;
  count: number;
}

/** GitHub's limit: the 1001st status of one commit and context is refused. */
export const STATUSES_PER_CONTEXT = 1000;

export interface StatusLimits {
  /** GitHub's: statuses of one commit and context. */
  perContext: number;
  /** Statuses of one commit, all contexts together: what one listing of the commit reads. */
  perCommit: number;
}

/** A status the limits refuse, naming the full one: the commit (`sha`) or its context. */
export class StatusLimitReached extends Error {
  override name = 'StatusLimitReached';
  constructor(
    readonly field: 'context' | 'sha',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Every attempt at a status id lost its race to other writers of the repository's statuses:
 * nothing is wrong with the status, the client may post it again shortly.
 */
export class StatusesBusy extends Error {
  override name = 'StatusesBusy';
  /** When the client may try again. */
  readonly retryAfterSeconds = 1;
}

export type StatusFields = Pick<CommitStatus, 'state' | 'description' | 'target_url' | 'context'>;

const SEQ_KEY = 'seq';
/** Attempts at a status id: every writer of the repository's statuses races on `seq`. */
const APPEND_ATTEMPTS = 100;
/**
 * Longest wait in ms before another attempt. Waits grow from 1 ms to this, each a random part of
 * its bound (half to all of it), so that writers who lost to each other do not meet again.
 */
const MAX_RETRY_DELAY_MS = 10;

function retryDelayMs(attempt: number): number {
  const bound = Math.min(2 ** attempt, MAX_RETRY_DELAY_MS);
  return bound * (0.5 + Math.random() / 2);
}

/** The scope of a repository's commit statuses. */
export const statusesScope = (repositoryId: string) => `statuses:${repositoryId}`;
const totalKey = (sha: ObjectId) => `total:${sha}`;
const latestPrefix = (sha: ObjectId) => `latest:${sha}:`;
const latestKey = (sha: ObjectId, context: string) => latestPrefix(sha) + encodeURIComponent(context);
const statusPrefix = (sha: ObjectId) => `status:${sha}:`;
const statusKey = (sha: ObjectId, id: number) => statusPrefix(sha) + String(id).padStart(12, '0');

export class StatusStore {
  constructor(private readonly kv: KVStore) {}

  /** Gives the status its id and records it; StatusLimitReached when the commit or its context is full. */
  async append(repositoryId: string, sha: ObjectId, fields: StatusFields, limits: StatusLimits): Promise<CommitStatus> {
    const scope = statusesScope(repositoryId);
    const latest = latestKey(sha, fields.context);
    const total = totalKey(sha);
    for (let attempt = 0; attempt < APPEND_ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(retryDelayMs(attempt - 1));
      const current = await this.kv.getMany(scope, [SEQ_KEY, latest, total]);
      const seq = current.get(SEQ_KEY);
      const latestValue = current.get(latest);
      const totalValue = current.get(total);
      const count = latestValue === undefined ? 0 : (JSON.parse(latestValue) as LatestRecord).count;
      const commitCount = Number(totalValue ?? '0');
      if (count >= limits.perContext) {
        throw new StatusLimitReached('context', `This SHA and context has reached the maximum number of statuses (${limits.perContext}).`);
      }
      if (commitCount >= limits.perCommit) {
        throw new StatusLimitReached(
          'sha',
          `This SHA has reached the maximum number of statuses (${limits.perCommit}, all contexts together).`,
        );
      }
      const record: CommitStatus = { id: Number(seq ?? 0) + 1, ...fields, created_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
      const next: LatestRecord = { status: record, count: count + 1 };
      const { conflicts } = await this.kv.compareAndSwap(
        scope,
        [
          { key: SEQ_KEY, expect: seq ?? null, value: String(record.id) },
          { key: total, expect: totalValue ?? null, value: String(commitCount + 1) },
          { key: latest, expect: latestValue ?? null, value: JSON.stringify(next) },
          { key: statusKey(sha, record.id), expect: null, value: JSON.stringify(record) },
        ],
        'all',
      );
      if (conflicts.length === 0) return record;
    }
    throw new StatusesBusy(
      `statuses of repository ${repositoryId} ${sha}: gave up after ${APPEND_ATTEMPTS} lost races for a status id; try again shortly`,
    );
  }

  /** Every status of the commit, newest first (as many as the per-commit limit allowed). */
  async list(repositoryId: string, sha: ObjectId): Promise<CommitStatus[]> {
    const entries = await this.kv.scan(statusesScope(repositoryId), statusPrefix(sha));
    return entries.map(({ value }) => JSON.parse(value) as CommitStatus).reverse();
  }

  /** The newest status of each context of the commit, newest first. */
  async latest(repositoryId: string, sha: ObjectId): Promise<CommitStatus[]> {
    const entries = await this.kv.scan(statusesScope(repositoryId), latestPrefix(sha));
    return entries.map(({ value }) => (JSON.parse(value) as LatestRecord).status).sort((a, b) => b.id - a.id);
  }

  /** Removes every status of the repository (it is being deleted). */
  async deleteAll(repositoryId: string): Promise<void> {
    await clearScope(this.kv, statusesScope(repositoryId));
  }
}
