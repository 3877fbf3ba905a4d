/**
 * Rounds of pushes and clones by the real git against a real server whose S3 store and Redis are
 * reached through fault proxies (scripts/fault-proxy.ts), checking after each what must hold:
 * a push git reports as accepted is stored (never lost); a push that failed left the branch
 * where it was; a clone that succeeds has exactly the branch and the objects pushed, fsck clean.
 * Once the faults stop, the same server (no restart) clones everything and takes a push.
 * test/faults-distributed.test.ts runs a few rounds; scripts/faults.ts runs many.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitClient } from '../packages/test-support/src/git-client.js';
import { distributedStorage, redisUrl, s3Target } from '../packages/test-support/src/server-storage.js';
import { startServer, type ServerProcess } from '../packages/test-support/src/server.js';
import { FaultProxy } from './fault-proxy.js';

export type FaultedStore = 's3' | 'redis';

export interface FaultRoundsOptions {
  rounds: number;
  /** Share of each faulted store's exchanges faulted. */
  rate: number;
  /** Seeds the proxies (the Redis proxy gets seed + 1). */
  seed: number;
  /** The stores whose traffic is faulted. */
  stores: readonly FaultedStore[];
  /** How late a delayed exchange's bytes arrive (default 50 ms). */
  delayMs?: number;
  /** Told of each round's outcome. */
  log?: (line: string) => void;
}

export interface FaultRoundsSummary {
  pushes: { ok: number; failed: number; unknownOutcome: number; lost: number };
  clones: { ok: number; failed: number; corrupt: number };
  /** What each proxy did: exchanges seen and faults injected by kind. */
  proxies: Partial<Record<FaultedStore, FaultProxy['counts']>>;
  /** What git printed for failed pushes and clones (its error lines, ids and ports left out), each once. */
  failureMessages: string[];
  /** Every broken promise, described: empty when all held. */
  problems: string[];
}

const BRANCH = 'refs/heads/main';

export async function runFaultRounds(options: FaultRoundsOptions): Promise<FaultRoundsSummary> {
  const log = options.log ?? (() => undefined);
  const summary: FaultRoundsSummary = {
    pushes: { ok: 0, failed: 0, unknownOutcome: 0, lost: 0 },
    clones: { ok: 0, failed: 0, corrupt: 0 },
    proxies: {},
    failureMessages: [],
    problems: [],
  };
  const failureMessages = new Set<string>();
  const proxies = await startProxies(options);
  const faults = (on: boolean) => {
    for (const store of options.stores) proxies[store].enabled = on;
  };
  faults(false);
  const storage = distributedStorage({
    label: 'faults',
    extraEnv: { GITFLEET_S3_ENDPOINT: `http://${proxies.s3.address}`, GITFLEET_REDIS_URL: withHost(redisUrl(), proxies.redis.address) },
  });
  let server: ServerProcess | undefined;
  const git = await GitClient.create(2);
  const scratch = await mkdtemp(join(tmpdir(), 'gitfleet-faults-'));
  try {
    server = await startServer({}, { storage });
    const url = await server.createRepo('faults', 'app');
    const work = await git.init('work');
    const acknowledgedCommits: string[] = [];
    let stored: string | undefined; // where the branch is, as the server says with the faults off

    const withFaults = async <T>(work: () => Promise<T>): Promise<T> => {
      faults(true);
      try {
        return await work();
      } finally {
        faults(false);
      }
    };
    const failed = (what: string, stderr: string) => {
      if (stderr.trim() === '') summary.problems.push(`${what} failed without saying why`);
      failureMessages.add(failureText(stderr));
    };

    for (let round = 1; round <= options.rounds; round++) {
      const commit = await git.commitFiles(work, roundFiles(round), `round ${round}`);
      const push = await withFaults(() => git.run(['push', url, `HEAD:${BRANCH}`], { cwd: work }));
      const now = await branchTip(git, url);
      if (push.code === 0) {
        acknowledgedCommits.push(commit);
        if (now === commit) summary.pushes.ok++;
        else {
          summary.pushes.lost++;
          summary.problems.push(`round ${round}: push of ${commit} reported accepted, but the branch is at ${now}`);
        }
      } else {
        failed(`round ${round}: push`, push.stderr);
        if (now === stored) summary.pushes.failed++;
        else if (now === commit) summary.pushes.unknownOutcome++;
        else summary.problems.push(`round ${round}: a failed push of ${commit} left the branch at ${now}, not at ${stored}`);
      }
      stored = now;
      if (!server.alive()) {
        summary.problems.push(`round ${round}: the server died`);
        break;
      }
      const clone = await cloneAndCheck(git, url, scratch, `clone-${round}`, stored, work, withFaults);
      if (clone.outcome === 'failed') failed(`round ${round}: clone`, clone.detail);
      if (clone.outcome === 'corrupt') summary.problems.push(`round ${round}: clone: ${clone.detail}`);
      summary.clones[clone.outcome]++;
      log(`round ${round}: push ${push.code === 0 ? 'ok' : 'failed'}, clone ${clone.outcome}`);
    }

    // The faults are over: everything is served again, by the same process.
    const final = await cloneAndCheck(git, url, scratch, 'clone-final', stored, work, (work) => work());
    if (final.outcome !== 'ok') summary.problems.push(`after the faults, a clone ${final.outcome}: ${final.detail}`);
    else {
      const missing = [];
      for (const commit of acknowledgedCommits)
        if ((await git.run(['cat-file', '-e', commit], { cwd: final.dir })).code !== 0) missing.push(commit);
      if (missing.length > 0) summary.problems.push(`acknowledged pushes missing after the faults: ${missing.join(', ')}`);
      summary.pushes.lost += missing.length;
    }
    await git.commitFiles(work, roundFiles(options.rounds + 1), 'after the faults');
    const after = await git.run(['push', url, `HEAD:${BRANCH}`], { cwd: work });
    if (after.code !== 0) summary.problems.push(`after the faults, a push failed: ${after.stderr.trim()}`);
  } finally {
    for (const store of options.stores) summary.proxies[store] = { ...proxies[store].counts };
    await server?.stop();
    await Promise.all([proxies.s3.close(), proxies.redis.close()]);
    await git.cleanup();
    await rm(scratch, { recursive: true, force: true });
  }
  summary.failureMessages = [...failureMessages];
  return summary;
}

async function startProxies(options: FaultRoundsOptions): Promise<Record<FaultedStore, FaultProxy>> {
  const common = { rate: options.rate, delayMs: options.delayMs ?? 50 };
  const s3 = await FaultProxy.start({ ...common, seed: options.seed, target: s3Target().endpoint });
  const redis = await FaultProxy.start({ ...common, seed: options.seed + 1, target: new URL(redisUrl()).host });
  return { s3, redis };
}

/** `url` with its host:port replaced by `address`. */
function withHost(url: string, address: string): string {
  const parsed = new URL(url);
  parsed.host = address;
  return parsed.toString();
}

/** Files a round changes: a few kilobytes each, so that packs hold deltas and span several reads. */
function roundFiles(round: number): Record<string, string> {
  const lines = Array.from(
    { length: 400 },
    (_, i) => `line ${i} of file ${round % 4}${i % 37 === round % 37 ? ` changed in round ${round}` : ''}`,
  );
  return { [`src/file-${round % 4}.txt`]: `${lines.join('\n')}\n`, [`rounds/${round}.txt`]: `round ${round}\n` };
}

/** git's error lines, with what differs from one failure to the next (ids, ports, counts) masked, so that alike failures read alike. */
function failureText(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => /^(remote: |error: |fatal: | ! )/.test(line) && !/(Resolving|Compressing|Counting|Enumerating|Total) /.test(line))
    .map((line) =>
      line
        .replace(/[0-9a-f]{40}/g, '<id>')
        .replace(/:\d{2,5}\//g, ':<port>/')
        .replace(/\b\d+\b/g, 'N')
        .trim(),
    )
    .join(' | ');
}

/** Where the branch is, asked with the faults off. */
async function branchTip(git: GitClient, url: string): Promise<string | undefined> {
  const line = await git.ok(['ls-remote', url, BRANCH]);
  return line === '' ? undefined : line.slice(0, 40);
}

type CloneCheck = { outcome: 'ok'; dir: string; detail: string } | { outcome: 'failed' | 'corrupt'; detail: string };

/**
 * A mirror clone (under `during`, which turns the faults on) that must, if git says it succeeded,
 * hold exactly the branch at `tip` and the objects of its history as `work` has them, fsck clean.
 */
async function cloneAndCheck(
  git: GitClient,
  url: string,
  scratch: string,
  name: string,
  tip: string | undefined,
  work: string,
  during: <T>(work: () => Promise<T>) => Promise<T>,
): Promise<CloneCheck> {
  const dir = join(scratch, name);
  const clone = await during(() => git.run(['clone', '--mirror', '-q', url, dir]));
  if (clone.code !== 0) return { outcome: 'failed', detail: clone.stderr };
  const refs = await git.ok(['for-each-ref', '--format=%(objectname) %(refname)'], { cwd: dir });
  const expectedRefs = tip === undefined ? '' : `${tip} ${BRANCH}`;
  if (refs !== expectedRefs)
    return { outcome: 'corrupt', detail: `refs ${JSON.stringify(refs)}, expected ${JSON.stringify(expectedRefs)}` };
  const fsck = await git.run(['fsck', '--full', '--strict', '--no-dangling'], { cwd: dir });
  if (fsck.code !== 0) return { outcome: 'corrupt', detail: `fsck: ${fsck.stderr}` };
  if (tip !== undefined) {
    const objects = (args: string[], cwd: string) =>
      git.ok(['rev-list', '--objects', ...args], { cwd }).then((out) =>
        out
          .split('\n')
          .map((line) => line.slice(0, 40))
          .sort(),
      );
    const [cloned, pushed] = await Promise.all([objects(['--all'], dir), objects([tip], work)]);
    if (cloned.join('\n') !== pushed.join('\n')) return { outcome: 'corrupt', detail: `the objects differ from those pushed up to ${tip}` };
  }
  return { outcome: 'ok', dir, detail: '' };
}
