/**
 * Crash rounds: a real server (its own process, the product's CLI) takes concurrent real
 * `git push`es into several repositories and is killed with SIGKILL at a seeded random moment;
 * it restarts on the same data, and each round checks what must survive a crash:
 * - every ref update git reported accepted is there; one in flight is either applied or not,
 *   never half (judge.ts);
 * - every advertised ref points at objects the server serves: a mirror clone is fsck clean;
 * - no spool or temp file outlives the restart;
 * - pack blobs the crash left unregistered are collected by maintenance a grace period after
 *   it first saw them.
 * With `failover`, a Redis Cluster master that holds the repositories' keys fails over in the
 * middle of the pushes instead, and the server is killed once they are over.
 * scripts/crash.ts runs many rounds; test/crash.test.ts runs a few.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from '../../packages/storage/src/index.js';
import { GitClient } from '../../packages/test-support/src/git-client.js';
import { distributedStorage, embeddedStorage, type StorageBackend } from '../../packages/test-support/src/server-storage.js';
import { startServer, type ServerProcess } from '../../packages/test-support/src/server.js';
import { preparePushableHistory, type HistorySource, type PushableHistory } from './history.js';
import { collectPacksNow, failOverMasterOf, leftoverFiles, unregisteredPacks, type CrashRepository } from './inspect.js';
import { judgeRound } from './judge.js';
import { ChainPositions, planUpdates, push, type PushResult, type RefUpdate } from './pushes.js';

export type CrashBackend = 'embedded' | 'distributed';

export interface CrashRoundsOptions {
  backend: CrashBackend;
  /** Distributed only: one Redis, or the Cluster (required by `failover`). */
  redis?: 'single' | 'cluster';
  rounds: number;
  seed: number;
  history: HistorySource;
  /** Repositories pushed to (default 3). */
  repositories?: number;
  /** Concurrent pushes per repository and round (default 2), each of `updatesPerPush` branches (default 2). */
  pushesPerRepository?: number;
  updatesPerPush?: number;
  /** How far along the history a branch moves in one push at most (default 3 commits). */
  step?: number;
  /**
   * The kill (or the failover) comes at a uniformly random moment of a window that starts with the
   * pushes, or when they are all over. The window starts this long (default 3000 ms) and follows
   * how long the pushes take (see nextKillWindow).
   */
  killWindowMs?: number;
  /** Fail a Cluster master over during the pushes (the server is killed after them). */
  failover?: boolean;
  /** GITFLEET_REDIS_WAIT_REPLICAS of the server (distributed). */
  waitReplicas?: number;
  /** Mirror clone and fsck every repository every this many rounds (and after the last; default 1). */
  fsckEvery?: number;
  /** Run maintenance (which collects) every this many rounds (default 1). */
  collectEvery?: number;
  /** The servers' and maintenance's pack grace period; must exceed the 30 s registry view age (default 31). */
  graceSeconds?: number;
  log?: (line: string) => void;
}

export interface CrashSummary {
  rounds: number;
  /** Rounds whose kill came while pushes were still running. */
  killsMidPush: number;
  failovers: number;
  /** Of those, failovers while pushes were still running. */
  failoversMidPush: number;
  pushes: { run: number; exitedOk: number };
  refUpdates: { pushed: number; acknowledged: number; appliedUnacknowledged: number; notApplied: number };
  /** Acknowledged updates not found after the restart: must be 0. */
  lost: number;
  /** Refs at a value no push gave them: must be 0. */
  unexpected: number;
  /** Refs advertised whose objects the server could not serve (the mirror clone or fsck failed): must be 0. */
  danglingRefs: number;
  /** Spool and temp files found after restarts: must be 0. */
  leftoverFiles: number;
  orphanPacks: { found: number; collected: number; remaining: number };
  /** What git printed for pushes that failed or had refs rejected (ids masked), each once. */
  pushErrors: string[];
  /** Every broken promise, described: empty when all held. */
  problems: string[];
}

const OWNER = 'crash';
const MIN_KILL_WINDOW_MS = 200;
const MAX_KILL_WINDOW_MS = 120_000;

export async function runCrashRounds(options: CrashRoundsOptions): Promise<CrashSummary> {
  if (options.failover && options.redis !== 'cluster') throw new Error('failover rounds need the Redis Cluster (redis: cluster)');
  const run = await CrashRun.start(options);
  try {
    for (let round = 1; round <= options.rounds; round++) await run.round(round);
    await run.collectTheOrphans();
  } finally {
    await run.close();
  }
  return run.summary;
}

/** A run of rounds: the server of the moment, the repositories it serves, and what has been found. */
class CrashRun {
  readonly summary: CrashSummary = {
    rounds: 0,
    killsMidPush: 0,
    failovers: 0,
    failoversMidPush: 0,
    pushes: { run: 0, exitedOk: 0 },
    refUpdates: { pushed: 0, acknowledged: 0, appliedUnacknowledged: 0, notApplied: 0 },
    lost: 0,
    unexpected: 0,
    danglingRefs: 0,
    leftoverFiles: 0,
    orphanPacks: { found: 0, collected: 0, remaining: 0 },
    pushErrors: [],
    problems: [],
  };
  private readonly log: (line: string) => void;
  private readonly random: () => number;
  private readonly graceSeconds: number;
  private readonly dataDir: string;
  private readonly pushErrors = new Set<string>();
  /** Orphaned pack checksum → when a collection first ran with it there. */
  private readonly sightings = new Map<string, number>();
  private readonly orphansSeen = new Set<string>();
  private readonly repositories: CrashRepository[] = [];
  private killWindowMs: number;
  private server: ServerProcess | undefined;
  private history: PushableHistory | undefined;
  private positions: ChainPositions | undefined;
  /** The branches of each repository as last served. */
  private refs: Map<string, string>[] = [];

  private constructor(
    private readonly options: CrashRoundsOptions,
    private readonly storage: StorageBackend,
    private readonly serverEnv: Record<string, string>,
    private readonly scratch: string,
    private readonly git: GitClient,
  ) {
    this.log = options.log ?? (() => undefined);
    this.random = seededRandom(options.seed);
    this.graceSeconds = options.graceSeconds ?? 31;
    this.killWindowMs = options.killWindowMs ?? 3000;
    this.dataDir = join(scratch, 'data');
  }

  static async start(options: CrashRoundsOptions): Promise<CrashRun> {
    const graceSeconds = options.graceSeconds ?? 31;
    // Background maintenance stays off: a maintenance child outlives a killed server, and would hold
    // the lease the collections this run makes itself between rounds need.
    const serverEnv: Record<string, string> = {
      GITFLEET_MAINTENANCE: '0',
      GITFLEET_PACK_GRACE_SECONDS: String(graceSeconds),
      // No request bound: the grace period need only exceed the registry view age.
      GITFLEET_REQUEST_TIMEOUT_MS: '0',
      ...(options.waitReplicas === undefined ? {} : { GITFLEET_REDIS_WAIT_REPLICAS: String(options.waitReplicas) }),
    };
    const storage = options.backend === 'embedded' ? embeddedStorage() : distributedStorage({ redis: options.redis, label: 'crash' });
    const run = new CrashRun(options, storage, serverEnv, await mkdtemp(join(tmpdir(), 'gitfleet-crash-')), await GitClient.create(2));
    try {
      await run.setUp();
    } catch (error) {
      await run.close();
      throw error;
    }
    return run;
  }

  private async setUp(): Promise<void> {
    this.history = await preparePushableHistory(this.git, this.options.history, join(this.scratch, 'history'));
    this.positions = new ChainPositions(this.history);
    await this.startServer();
    for (let i = 0; i < (this.options.repositories ?? 3); i++) {
      const name = `repo-${i}`;
      const { id } = await this.server!.createRepository(OWNER, name);
      this.repositories.push({ owner: OWNER, name, id });
    }
    this.refs = await this.servedBranches();
  }

  async round(round: number): Promise<void> {
    const { pushed, disruption } = await this.pushAndDisrupt(await this.plan(round));
    this.summary.rounds = round;
    const restartedAt = performance.now();
    await this.startServer();
    const restartMs = Math.round(performance.now() - restartedAt);
    const leftovers = await this.checkLeftovers(round);
    const after = await this.servedBranches();
    const acknowledged = this.judge(round, pushed, after);
    this.refs = after;
    for (const checksum of await unregisteredPacks(this.cliEnv(), this.repositories)) this.orphansSeen.add(checksum);
    if (round % (this.options.collectEvery ?? 1) === 0) await this.collect();
    const fsck =
      round % (this.options.fsckEvery ?? 1) === 0 || round === this.options.rounds ? await this.checkServed(round, after) : 'not checked';
    this.log(
      `round ${round}: ${disruption}, restarted in ${restartMs} ms; ${pushed.flat().length} pushes, ${acknowledged} ref updates acknowledged; ` +
        `${leftovers} leftover files; ${this.orphansSeen.size} orphaned packs seen so far; ${fsck}`,
    );
  }

  /** Every orphan must go once it has been seen a grace period ago: see them all now, wait, collect, count what is left. */
  async collectTheOrphans(): Promise<void> {
    await this.collect();
    const due = Math.max(0, ...this.sightings.values()) + this.graceSeconds * 1000 + 1000;
    if (this.sightings.size > 0 && due > Date.now()) {
      this.log(`waiting ${Math.ceil((due - Date.now()) / 1000)} s for the grace period of the orphaned packs`);
      await sleep(due - Date.now());
    }
    await this.collect();
    const remaining = await unregisteredPacks(this.cliEnv(), this.repositories);
    for (const checksum of remaining) this.orphansSeen.add(checksum);
    const found = this.orphansSeen.size;
    this.summary.orphanPacks = { found, collected: found - remaining.length, remaining: remaining.length };
    if (remaining.length > 0)
      this.summary.problems.push(`orphaned packs left a grace period after they were seen: ${remaining.join(', ')}`);
  }

  async close(): Promise<void> {
    this.summary.pushErrors = [...this.pushErrors];
    await this.server?.stop();
    await this.storage.dispose();
    await this.git.cleanup();
    await rm(this.scratch, { recursive: true, force: true });
  }

  private async startServer(): Promise<void> {
    this.server = await startServer(this.serverEnv, { storage: this.storage, dataDir: this.dataDir });
  }

  /** The environment of a CLI on the server's stores, or of this process opening them. */
  private cliEnv(): Record<string, string> {
    return { ...this.server!.cliEnv, ...this.serverEnv };
  }

  /** Each start listens on a port of its own. */
  private urlOf(repo: CrashRepository): string {
    return `${this.server!.url}/${repo.owner}/${repo.name}.git`;
  }

  private servedBranches(): Promise<Map<string, string>[]> {
    return Promise.all(this.repositories.map((repo) => advertisedBranches(this.git, this.urlOf(repo))));
  }

  /** The round's pushes: per repository, a few of distinct branches each. */
  private plan(round: number): Promise<RefUpdate[][][]> {
    const perPush = this.options.updatesPerPush ?? 2;
    return Promise.all(
      this.repositories.map(async (repo, i) => {
        const updates = await planUpdates(this.git, this.positions!, this.refs[i], {
          random: this.random,
          step: this.options.step ?? 3,
          updates: (this.options.pushesPerRepository ?? 2) * perPush,
          label: `round ${round} of ${repo.name}`,
        });
        return Array.from({ length: Math.ceil(updates.length / perPush) }, (_, p) => updates.slice(p * perPush, (p + 1) * perPush));
      }),
    );
  }

  /** Runs the pushes, kills the server (or fails the master over) at a random moment of the window, and waits for every git. */
  private async pushAndDisrupt(planned: RefUpdate[][][]): Promise<{ pushed: PushResult[][]; disruption: string }> {
    const started = performance.now();
    const allDone = Promise.all(
      planned.map((pushes, i) =>
        Promise.all(pushes.map((updates) => push(this.git, this.history!.gitDir, this.urlOf(this.repositories[i]), updates))),
      ),
    );
    const pushesMs = allDone.then(() => Math.round(performance.now() - started));
    const window = `window ${Math.round(this.killWindowMs)} ms`;
    const moment = this.random() * this.killWindowMs;
    const midPush = await Promise.race([sleep(moment).then(() => true), allDone.then(() => false)]);
    const when = async () => (midPush ? `${Math.round(moment)} ms into the pushes` : `after the pushes (${await pushesMs} ms)`);
    let disruption: string;
    if (this.options.failover) {
      const failover = await failOverMasterOf(this.repositories[0].id);
      disruption = `failover ${await when()}, ${window} (${failover})`;
      this.summary.failovers++;
      if (midPush) this.summary.failoversMidPush++;
      await allDone;
      await this.server!.kill('SIGKILL');
    } else {
      await this.server!.kill('SIGKILL');
      disruption = `killed ${await when()}, ${window}`;
      if (midPush) this.summary.killsMidPush++;
    }
    const pushed = await allDone;
    this.killWindowMs = nextKillWindow(this.killWindowMs, midPush ? undefined : await pushesMs);
    return { pushed, disruption };
  }

  private async checkLeftovers(round: number): Promise<number> {
    const leftovers = await leftoverFiles(this.dataDir);
    this.summary.leftoverFiles += leftovers.length;
    if (leftovers.length > 0) this.summary.problems.push(`round ${round}: left after the restart: ${leftovers.join(', ')}`);
    return leftovers.length;
  }

  /** Judges each repository's pushes against what is served now; returns the updates acknowledged. */
  private judge(round: number, pushed: readonly PushResult[][], after: readonly Map<string, string>[]): number {
    const { summary } = this;
    let acknowledged = 0;
    this.repositories.forEach((repo, i) => {
      const judgement = judgeRound(this.refs[i], pushed[i], after[i]);
      acknowledged += judgement.acknowledged;
      summary.refUpdates.acknowledged += judgement.acknowledged;
      summary.refUpdates.appliedUnacknowledged += judgement.appliedUnacknowledged;
      summary.refUpdates.notApplied += judgement.notApplied;
      summary.lost += judgement.lost.length;
      summary.unexpected += judgement.unexpected.length;
      for (const problem of [...judgement.lost, ...judgement.unexpected]) summary.problems.push(`round ${round}, ${repo.name}: ${problem}`);
      for (const result of pushed[i]) {
        summary.pushes.run++;
        summary.refUpdates.pushed += result.updates.length;
        if (result.code === 0) summary.pushes.exitedOk++;
        if (result.errors !== '') this.pushErrors.add(maskedErrors(result.errors));
      }
    });
    return acknowledged;
  }

  private async checkServed(round: number, after: readonly Map<string, string>[]): Promise<string> {
    const checks = await Promise.all(
      this.repositories.map((repo, i) =>
        servedCompletely(this.git, repo, this.urlOf(repo), after[i], join(this.scratch, `mirror-${round}-${i}`)),
      ),
    );
    const failures = checks.filter((failure) => failure !== undefined);
    this.summary.danglingRefs += failures.reduce((sum, failure) => sum + failure.refs, 0);
    for (const failure of failures) this.summary.problems.push(`round ${round}: ${failure.detail}`);
    return failures.length === 0 ? 'clones fsck clean' : `${failures.length} repositories not served completely`;
  }

  /** A collection, after noting which unregistered packs it sees for the first time. */
  private async collect(): Promise<void> {
    const now = Date.now();
    for (const checksum of await unregisteredPacks(this.cliEnv(), this.repositories)) {
      if (!this.sightings.has(checksum)) this.sightings.set(checksum, now);
    }
    await collectPacksNow(this.cliEnv(), this.repositories, this.graceSeconds);
  }
}

/**
 * The next round's kill window, from this one's and how long the pushes took when they all ended
 * before the kill (`pushesMs`): a quarter longer than they took, so that kills fall throughout the
 * pushes and some after; half as long again when the kill came first (the pushes grow with the
 * history, and a loaded machine slows them), so that some pushes are acknowledged.
 */
function nextKillWindow(windowMs: number, pushesMs: number | undefined): number {
  return pushesMs === undefined ? Math.min(windowMs * 1.5, MAX_KILL_WINDOW_MS) : Math.max(pushesMs * 1.25, MIN_KILL_WINDOW_MS);
}

/** `refs/heads/*` as the server advertises them. */
async function advertisedBranches(git: GitClient, url: string): Promise<Map<string, string>> {
  const out = await git.ok(['ls-remote', url, 'refs/heads/*']);
  return new Map(
    out
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [oid, ref] = line.split('\t');
        return [ref, oid] as const;
      }),
  );
}

/**
 * A mirror clone holding exactly the advertised branches, `git fsck --strict` clean; otherwise
 * how many advertised refs the server failed to serve (all of them when the clone failed).
 */
async function servedCompletely(
  git: GitClient,
  repo: CrashRepository,
  url: string,
  advertised: ReadonlyMap<string, string>,
  dir: string,
): Promise<{ refs: number; detail: string } | undefined> {
  try {
    const clone = await git.run(['clone', '--mirror', '-q', url, dir]);
    if (clone.code !== 0) return { refs: advertised.size, detail: `${repo.name}: the mirror clone failed: ${clone.stderr.trim()}` };
    const fsck = await git.run(['fsck', '--full', '--strict', '--no-dangling', '--no-progress'], { cwd: dir });
    if (fsck.code !== 0 || fsck.stdout.trim() !== '')
      return { refs: advertised.size, detail: `${repo.name}: fsck of the mirror clone: ${fsck.stdout}${fsck.stderr}` };
    const cloned = await advertisedBranches(git, dir);
    const differing = [...advertised].filter(([ref, oid]) => cloned.get(ref) !== oid).map(([ref]) => ref);
    if (differing.length > 0) return { refs: differing.length, detail: `${repo.name}: the mirror clone lacks ${differing.join(', ')}` };
    return undefined;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** git's error lines with what differs from one failure to the next (ids, ports, times) masked, so that alike failures read alike. */
function maskedErrors(errors: string): string {
  return errors
    .replace(/[0-9a-f]{40}/g, '<id>')
    .replace(/(port |:)\d{2,5}\b/g, '$1<port>')
    .replace(/\d+ ms/g, 'N ms');
}
