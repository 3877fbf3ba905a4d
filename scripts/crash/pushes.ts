/**
 * One round's pushes to one repository: which branches change and how (create, fast-forward,
 * force, delete), run as real `git push --porcelain`s, and what git reported for each ref.
 */
import type { GitClient } from '../../packages/test-support/src/git-client.js';
import { rewrittenCommit, type PushableHistory } from './history.js';

/** The branches the rounds play with, in every repository. */
export const BRANCHES = ['crash-a', 'crash-b', 'crash-c', 'crash-d', 'crash-e'].map((name) => `refs/heads/${name}`);

export type UpdateKind = 'create' | 'fast-forward' | 'force' | 'delete';

export interface RefUpdate {
  ref: string;
  kind: UpdateKind;
  /** The value pushed; null deletes the ref. */
  target: string | null;
}

export interface PushResult {
  updates: readonly RefUpdate[];
  /** git's exit code. */
  code: number;
  /** Refs git reported as accepted by the server (porcelain flags other than `!`). */
  accepted: ReadonlySet<string>;
  /** git's error lines and rejected refs, for the record. */
  errors: string;
}

/** Where each chain commit (and each rewritten commit, at the chain position whose tree it has) is. */
export class ChainPositions {
  private readonly positions = new Map<string, number>();
  /** Commits written for force pushes: no later chain commit descends from them. */
  private readonly rewritten = new Set<string>();

  constructor(readonly history: PushableHistory) {
    history.chain.forEach((oid, at) => this.positions.set(oid, at));
  }

  positionOf(oid: string): number {
    const at = this.positions.get(oid);
    if (at === undefined) throw new Error(`${oid} is neither a commit of the pushed chain nor one the rounds wrote`);
    return at;
  }

  isRewritten(oid: string): boolean {
    return this.rewritten.has(oid);
  }

  async rewrite(git: GitClient, at: number, message: string): Promise<string> {
    const oid = await rewrittenCommit(git, this.history, at, message);
    this.positions.set(oid, at);
    this.rewritten.add(oid);
    return oid;
  }
}

export interface PlanOptions {
  random: () => number;
  /** How far along the chain a creation or a fast-forward moves a branch at most. */
  step: number;
  /** Branches changed per repository and round. */
  updates: number;
  /** Names the rewritten commits (so that every round's differ). */
  label: string;
}

/**
 * Updates of distinct branches of one repository, given where its branches are (`refs`): a
 * missing branch is created a little past the furthest branch; an existing one is
 * fast-forwarded, forced (rewound, or rewritten as a new commit) or deleted.
 */
export async function planUpdates(
  git: GitClient,
  positions: ChainPositions,
  refs: ReadonlyMap<string, string>,
  options: PlanOptions,
): Promise<RefUpdate[]> {
  const { random, step } = options;
  const last = positions.history.chain.length - 1;
  const pick = (n: number) => Math.floor(random() * n);
  const furthest = Math.max(0, ...[...refs.values()].map((oid) => positions.positionOf(oid)));
  const ahead = (from: number) => Math.min(last, from + 1 + pick(step));
  const branches = [...BRANCHES].sort(() => random() - 0.5).slice(0, options.updates);
  const updates: RefUpdate[] = [];
  for (const ref of branches) {
    const current = refs.get(ref);
    if (current === undefined) {
      updates.push({ ref, kind: 'create', target: positions.history.chain[ahead(pick(furthest + 1))] });
      continue;
    }
    const at = positions.positionOf(current);
    const roll = random();
    if (roll < 0.5 && at < last && !positions.isRewritten(current)) {
      updates.push({ ref, kind: 'fast-forward', target: positions.history.chain[ahead(at)] });
    } else if (roll < 0.85) {
      // A new commit beside the chain, or back to an older chain commit: neither descends from `current`.
      const back = 1 + pick(Math.max(1, at));
      const target =
        random() < 0.5 || at < 2
          ? await positions.rewrite(git, Math.max(1, Math.min(at, last)), `rewritten by ${options.label} on ${ref}`)
          : positions.history.chain[Math.max(0, at - back)];
      updates.push({ ref, kind: 'force', target });
    } else {
      updates.push({ ref, kind: 'delete', target: null });
    }
  }
  return updates;
}

/** Runs `git push --porcelain` of `updates` to `url` from the history's repository. */
export async function push(git: GitClient, gitDir: string, url: string, updates: readonly RefUpdate[]): Promise<PushResult> {
  const refspecs = updates.map(({ ref, kind, target }) => (target === null ? `:${ref}` : `${kind === 'force' ? '+' : ''}${target}:${ref}`));
  const result = await git.run(['--git-dir', gitDir, 'push', '--porcelain', url, ...refspecs]);
  return { updates, code: result.code, accepted: acceptedRefs(result.stdout), errors: errorLines(result.stdout, result.stderr) };
}

/** The refs of `git push --porcelain` output lines `<flag>\t<from>:<to>\t<summary>` whose flag says the server took the update. */
export function acceptedRefs(porcelain: string): Set<string> {
  const accepted = new Set<string>();
  for (const line of porcelain.split('\n')) {
    const match = /^([ +\-*=!])\t[^\t]*:([^\t]+)\t/.exec(line);
    if (match && match[1] !== '!') accepted.add(match[2]);
  }
  return accepted;
}

/** git's error lines, and the porcelain lines of rejected refs with the server's reason. */
function errorLines(porcelain: string, stderr: string): string {
  const rejected = porcelain.split('\n').filter((line) => line.startsWith('!\t'));
  const errors = stderr.split('\n').filter((line) => /^(error|fatal): /.test(line));
  return [...rejected, ...errors].join(' | ');
}
