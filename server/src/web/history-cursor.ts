import { log, readCommit, type CommitInfo } from '@gitfleet/browse';
import type { ObjectId } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { HttpError } from '../http-errors.js';

/**
 * Where the next page of history starts, so that each page walks one page only:
 * `after` is the last commit shown, `pending` the other commits the walk had queued but not
 * shown yet (other sides of merges). On a linear history `pending` is empty and the link is
 * just `?after=<oid>`. Resuming from `after` alone would lose the commits of merged branches
 * that are older than it but not its ancestors.
 */
export interface HistoryCursor {
  after: ObjectId;
  pending: ObjectId[];
}

/** More queued commits than this and the cursor would outgrow a URL: the next page starts over from `after` only. */
const MAX_PENDING = 40;
const OID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export function parseCursor(after: unknown, pending: unknown): HistoryCursor | undefined {
  if (after === undefined) return undefined;
  const pendingList = typeof pending === 'string' && pending !== '' ? pending.split(',') : [];
  if (typeof after !== 'string' || !OID.test(after) || pendingList.some((oid) => !OID.test(oid)) || pendingList.length > MAX_PENDING) {
    throw new HttpError(400, 'after/pending: expected full commit ids');
  }
  return { after, pending: pendingList };
}

export function cursorQuery(cursor: HistoryCursor): string {
  return cursor.pending.length === 0 ? `?after=${cursor.after}` : `?after=${cursor.after}&pending=${cursor.pending.join(',')}`;
}

/**
 * Where a page of history stands: its cursor (none on the first page) and, so that "Newer"
 * goes back exactly one page, the cursors of the pages before it (oldest first, the first
 * page's left out). A cursor cannot be walked backwards (commits do not name their children),
 * so the trail travels in the URL (`newer`). It is kept to MAX_TRAIL_CHARS by forgetting its
 * oldest pages (`forgotten`): from there on only "Newest" leads back.
 */
export interface HistoryPosition {
  cursor?: HistoryCursor;
  newer: HistoryCursor[];
  forgotten: boolean;
}

/** About fifty pages back on a linear history; a URL stays well under common limits. */
const MAX_TRAIL_CHARS = 2048;
/** Marks a trail whose oldest pages were dropped. */
const FORGOTTEN = '*';

export function parsePosition(query: Record<string, unknown>): HistoryPosition {
  const cursor = parseCursor(query.after, query.pending);
  const trail = query.newer;
  if (trail === undefined || trail === '') return { cursor, newer: [], forgotten: false };
  if (typeof trail !== 'string' || trail.length > MAX_TRAIL_CHARS + FORGOTTEN.length + 1 || cursor === undefined) {
    throw new HttpError(400, 'newer: expected the cursors of the pages before this one');
  }
  const entries = trail.split('.');
  const forgotten = entries[0] === FORGOTTEN;
  const newer = (forgotten ? entries.slice(1) : entries).map((entry) => {
    const [after, ...pending] = entry.split('~');
    return parseCursor(after, pending.join(','))!;
  });
  return { cursor, newer, forgotten };
}

/** The query of the next, older page: its cursor, with this page's added to the trail. */
export function olderQuery(position: HistoryPosition, next: HistoryCursor): string {
  return cursorQuery(next) + trailQuery(position.cursor ? [...position.newer, position.cursor] : [], position.forgotten);
}

/** The query of the page before, newer one: "" for the first page; undefined on the first page or when the trail forgot it. */
export function newerQuery(position: HistoryPosition): string | undefined {
  if (!position.cursor) return undefined;
  const previous = position.newer.at(-1);
  if (!previous) return position.forgotten ? undefined : '';
  return cursorQuery(previous) + trailQuery(position.newer.slice(0, -1), position.forgotten);
}

function trailQuery(cursors: HistoryCursor[], forgotten: boolean): string {
  let entries = cursors.map((cursor) => [cursor.after, ...cursor.pending].join('~'));
  let dropped = forgotten;
  while (entries.join('.').length > MAX_TRAIL_CHARS) {
    entries = entries.slice(1);
    dropped = true;
  }
  const trail = dropped ? [FORGOTTEN, ...entries] : entries;
  return trail.length === 0 ? '' : `&newer=${trail.join('.')}`;
}

export interface HistoryPage {
  commits: CommitInfo[];
  /** The cursor of the next page; undefined on the last one. */
  next?: HistoryCursor;
}

/**
 * A page of `git log` order (newest committer date first). The first page walks from `start`;
 * a later one from what its cursor says was left queued: the parents of `after` and `pending`,
 * each walked one page deep and merged by date.
 */
export async function historyPage(
  repo: Repository,
  start: ObjectId,
  cursor: HistoryCursor | undefined,
  size: number,
): Promise<HistoryPage> {
  let starts: ObjectId[];
  if (cursor) {
    starts = unique([...(await readCommit(repo, cursor.after)).parents, ...cursor.pending]);
  } else {
    starts = [start];
  }
  const walks = await Promise.all(starts.map((oid) => log(repo, oid, { limit: size + 1 })));
  const all = mergeWalks(walks.map((walk) => walk.commits));
  const commits = all.slice(0, size);
  if (all.length <= size || commits.length === 0) return { commits };
  // What the walk still has queued: everything reachable one step from what it showed or started from.
  const shown = new Set(commits.map((commit) => commit.oid));
  const queued = unique([...starts, ...commits.flatMap((commit) => commit.parents)]).filter((oid) => !shown.has(oid));
  const last = commits[commits.length - 1];
  const pending = queued.filter((oid) => !last.parents.includes(oid));
  return { commits, next: { after: last.oid, pending: pending.length > MAX_PENDING ? [] : pending } };
}

/**
 * Interleaves walks as one walk from all their starts would: always the newest of their next
 * commits, each walk's own order kept (git's, even where clocks were wrong), each commit once.
 */
function mergeWalks(walks: CommitInfo[][]): CommitInfo[] {
  const positions = walks.map(() => 0);
  const taken = new Set<ObjectId>();
  const merged: CommitInfo[] = [];
  for (;;) {
    let best = -1;
    for (let index = 0; index < walks.length; index++) {
      while (positions[index] < walks[index].length && taken.has(walks[index][positions[index]].oid)) positions[index]++;
      const candidate = walks[index][positions[index]];
      if (candidate && (best < 0 || Date.parse(candidate.committer.date) > Date.parse(walks[best][positions[best]].committer.date)))
        best = index;
    }
    if (best < 0) return merged;
    const commit = walks[best][positions[best]++];
    taken.add(commit.oid);
    merged.push(commit);
  }
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
