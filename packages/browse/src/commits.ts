import { parseCommit, type ObjectId, type Signature as RawSignature } from '@gitfleet/git-format';
import { DateQueue, type Repository } from '@gitfleet/repository';
import { RevisionNotFound } from './errors.js';
import { commitReader, readTyped } from './objects.js';
import { normalizePath, pathEntryFinder } from './paths.js';
import type { CommitInfo, Signature } from './types.js';

/** Commits a path-filtered log examines before answering with what it found. */
export const DEFAULT_MAX_SCAN = 10_000;

export async function readCommit(repo: Repository, oid: ObjectId): Promise<CommitInfo> {
  const data = await readTyped(repo, oid, 'commit');
  if (!data) throw new RevisionNotFound(`no commit ${oid} in ${repo.info.owner}/${repo.info.name}`);
  const commit = parseCommit(data);
  return {
    oid,
    tree: commit.tree,
    parents: commit.parents,
    author: toSignature(commit.author),
    committer: toSignature(commit.committer),
    message: commit.message,
  };
}

export function toSignature(signature: RawSignature): Signature {
  return { name: signature.name, email: signature.email, date: isoDate(signature.timestamp, signature.timezone) };
}

/** git's "<seconds> <+hhmm>" as ISO 8601 in that same offset: 2024-05-01T12:00:00+02:00. */
export function isoDate(seconds: number, timezone: string): string {
  const match = /^([+-])(\d\d)(\d\d)$/.exec(timezone);
  // The parser only accepts ±hhmm; anything else would be a bug upstream, shown as UTC.
  const sign = match?.[1] === '-' ? -1 : 1;
  const offsetMinutes = match ? sign * (Number(match[2]) * 60 + Number(match[3])) : 0;
  const local = new Date((seconds + offsetMinutes * 60) * 1000).toISOString().slice(0, 19);
  const zone = match ? `${match[1]}${match[2]}:${match[3]}` : '+00:00';
  return local + zone;
}

export interface LogOptions {
  limit: number;
  skip?: number;
  path?: string;
  maxScan?: number;
}

export interface LogPage {
  commits: CommitInfo[];
  hasMore: boolean;
  /** With a path: the scan stopped at `maxScan` commits, so older matches may exist. */
  scanLimitReached?: boolean;
}

/**
 * History from `start`, newest first by committer date as `git log` walks it. Without a path
 * it pops exactly skip + limit + 1 commits. With a path it follows git's default history
 * simplification: a commit is shown when the path differs from every parent; a merge whose
 * path equals one parent's is hidden and only that parent is followed (so commits reached
 * only through the other parents are never shown, as in `git log -- path`).
 */
export async function log(repo: Repository, start: ObjectId, options: LogOptions): Promise<LogPage> {
  const limit = Math.max(0, Math.floor(options.limit));
  const skip = Math.max(0, Math.floor(options.skip ?? 0));
  const path = normalizePath(options.path ?? '');
  const maxScan = options.maxScan ?? DEFAULT_MAX_SCAN;
  const reader = commitReader(repo);
  const startCommit = await reader.tryCommit(start);
  if (!startCommit) throw new RevisionNotFound(`no commit ${start} in ${repo.info.owner}/${repo.info.name}`);

  const entryAt = path === '' ? undefined : pathEntryFinder(repo, path);
  const queue = new DateQueue();
  const seen = new Set<ObjectId>([start]);
  queue.push(start, startCommit.time);
  const wanted = skip + limit + 1;
  const matches: ObjectId[] = [];
  let scanned = 0;
  let scanLimitReached = false;

  while (queue.size > 0 && matches.length < wanted) {
    if (entryAt && scanned >= maxScan) {
      scanLimitReached = true;
      break;
    }
    const oid = queue.pop()!;
    scanned++;
    const commit = await reader.commit(oid, `history of ${start}`);
    let follow: readonly ObjectId[] = commit.parents;
    let shown = true;
    if (entryAt) {
      const own = await entryAt(commit.tree);
      if (commit.parents.length === 0) {
        shown = own !== undefined;
      } else {
        const parentEntries = await Promise.all(
          commit.parents.map(async (parent) => entryAt((await reader.commit(parent, `parent of ${oid}`)).tree)),
        );
        const same = parentEntries.findIndex((entry) => entry === own);
        if (same >= 0) {
          shown = false;
          follow = [commit.parents[same]];
        }
      }
    }
    if (shown) matches.push(oid);
    for (const parent of follow) {
      if (seen.has(parent)) continue;
      seen.add(parent);
      queue.push(parent, (await reader.commit(parent, `parent of ${oid}`)).time);
    }
  }

  const page = matches.slice(skip, skip + limit);
  const commits = await Promise.all(page.map((oid) => readCommit(repo, oid)));
  const result: LogPage = { commits, hasMore: matches.length > skip + limit };
  if (scanLimitReached) result.scanLimitReached = true;
  return result;
}
