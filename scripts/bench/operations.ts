import { rm } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { serverCpuSeconds } from './cpu.js';
import type { Daemon } from './daemon.js';
import type { GitClient } from './git-client.js';
import { preparePushes, pushOverHttp } from './http-pusher.js';
import { GITFLEET_SERVERS, packfileUrisGiven, URI_OPT_IN } from './packfile-uris.js';
import type { BenchServer, ServerName, ServerProcess } from './servers.js';

/** The repository every server is loaded with, and how much of it is pushed. */
export interface Source {
  gitDir: string;
  /** Push refspecs, e.g. refs/heads/*:refs/heads/* */
  refspecs: string[];
  /** Ref-name prefixes those refspecs cover, to check a server received all of them. */
  refPrefixes: string[];
  /** The branch the 1-commit pushes extend. */
  branch: string;
  /** Every ref is pushed: the load is `git push --mirror`. */
  mirror: boolean;
  /** Loaded by pushing these commits of the branch one at a time, oldest first, instead of one full push. */
  pushCommits?: string[];
}

/** One server's state across operations: its loaded repository and long-lived client clones. */
export class ServerState {
  loadError: string | undefined = 'not loaded yet';
  private fetcher: Promise<string> | undefined;
  private pusher: Promise<string> | undefined;
  private peers: Promise<ServerProcess[]> | undefined;
  private startedPeers: ServerProcess[] = [];

  constructor(
    readonly server: BenchServer,
    /** Client-side scratch space for this server's clones. */
    readonly dir: string,
  ) {}

  get mainUrl(): string {
    return this.server.url(MAIN_REPO);
  }

  /** The server's processes started so far (the main one first), for memory sampling. */
  get daemons(): Daemon[] {
    return [this.server.daemon, ...this.startedPeers.map((peer) => peer.daemon)];
  }

  /**
   * The main process and `count - 1` more over the same stores, started once and then kept.
   * Each new one first serves an untimed clone, so that its caches are as warm as the main
   * process's: the comparison is of process counts, not of cold against warm caches.
   */
  processesUpTo(git: GitClient, count: number): Promise<ServerProcess[]> {
    if (!this.server.startPeers) throw new Error(`${this.server.name} runs as one process only`);
    this.peers ??= this.server.startPeers(count - 1).then(async (peers) => {
      this.startedPeers = peers;
      await Promise.all(
        peers.map(async (peer, i) => {
          const dest = path.join(this.dir, `warm-up-${i}`);
          await git.git(['clone', '--quiet', '--bare', peer.url(MAIN_REPO), dest]);
          await rm(dest, { recursive: true, force: true });
        }),
      );
      return peers;
    });
    return this.peers.then((peers) => {
      if (peers.length + 1 < count) throw new Error(`${count} processes asked for, ${peers.length + 1} running`);
      return [this.server, ...peers.slice(0, count - 1)];
    });
  }

  requireLoaded(): void {
    if (this.loadError !== undefined) throw new Error(`repository not loaded (${this.loadError.split('\n')[0]})`);
  }

  /** A mirror clone kept across operations for fetches; made once, untimed. */
  fetcherDir(git: GitClient): Promise<string> {
    this.fetcher ??= (async () => {
      const dir = path.join(this.dir, 'fetcher.git');
      await git.git(['clone', '--mirror', '--quiet', this.mainUrl, dir]);
      return dir;
    })();
    return this.fetcher;
  }

  /** A second clone (hard-linked from the fetcher) that makes and pushes new commits. */
  pusherDir(git: GitClient): Promise<string> {
    this.pusher ??= (async () => {
      const fetcher = await this.fetcherDir(git);
      const dir = path.join(this.dir, 'pusher.git');
      // Bare, not mirror: a mirror's push refuses refspecs.
      await git.git(['clone', '--bare', '--quiet', '--local', fetcher, dir]);
      await git.git(['--git-dir', dir, 'remote', 'set-url', 'origin', this.mainUrl]);
      return dir;
    })();
    return this.pusher;
  }
}

export const MAIN_REPO = 'main';

/** One timed thing of one repetition: wall seconds, the server's CPU seconds, or why it was not timed (a note for the report). */
export interface EventCount {
  count: number;
  what: string;
}

export interface Timing {
  seconds?: number;
  cpuSeconds?: number;
  note?: string;
}

/** An operation measured on every server; one run may time several things (their names, in order). */
export interface Operation {
  names: string[];
  repetitions: number;
  /** Runs whatever --ops selects: it loads or readies the repository the other operations use. */
  always?: boolean;
  /** Servers it applies to; the others get no row. Default: all. */
  servers?: readonly ServerName[];
  /** For parallel clones: how many clones one run makes and over how many server processes. */
  throughput?: { clones: number; processes: number };
  /** What one run completes (e.g. 160 accepted pushes): the report gives their rate at the median time. */
  completes?: EventCount;
  /** Untimed set-up, done before the memory of the operation is watched. */
  prepare?(state: ServerState): Promise<void>;
  run(state: ServerState, repetition: number): Promise<Timing[]>;
}

export interface OperationOptions {
  git: GitClient;
  source: Source;
  repeat: number;
  pushRepeat: number;
  parallel: number[];
  parallelRepeat: number;
  /** Process count of the scaled-out parallel clones, on the servers that can run several. */
  scaleOut: { processes: number; servers: readonly ServerName[] };
}

/** The commits of the "many new commits" fetch. */
const MANY_COMMITS = 100;

export function operations({ git, source, repeat, pushRepeat, parallel, parallelRepeat, scaleOut }: OperationOptions): Operation[] {
  /** A git command's wall time, and the CPU the server's processes spent meanwhile. */
  const timed = async (processes: readonly Daemon[], args: string[]): Promise<Timing> => {
    const pids = processes.map((daemon) => daemon.pid);
    const before = await serverCpuSeconds(pids);
    const seconds = await git.seconds(args);
    return { seconds, cpuSeconds: (await serverCpuSeconds(pids)) - before };
  };

  const clone = (name: string, args: string[]): Operation => ({
    names: [name],
    repetitions: repeat,
    async run(state, repetition) {
      state.requireLoaded();
      const dest = path.join(state.dir, `clone-${repetition}`);
      try {
        return [await timed(state.daemons, ['clone', '--quiet', ...args, state.mainUrl, dest])];
      } finally {
        await rm(dest, { recursive: true, force: true });
      }
    },
  });

  /**
   * A clone by a client that takes packfile URIs (Gitfleet only): the repacked pack comes from the
   * object store (S3) or the server's own signed URL, only what is newer inline. Its server CPU
   * against the same clone's without URIs is what the URI saves. Timed only when a URI was given.
   */
  const uriClone = (name: string, args: string[]): Operation => ({
    names: [name],
    repetitions: repeat,
    servers: GITFLEET_SERVERS,
    async run(state, repetition) {
      state.requireLoaded();
      const dest = path.join(state.dir, `uri-clone-${repetition}`);
      try {
        const given = await packfileUrisGiven(state.mainUrl);
        const timing = await timed(state.daemons, [...URI_OPT_IN, 'clone', '--quiet', ...args, state.mainUrl, dest]);
        if ((await packfileUrisGiven(state.mainUrl)) > given) return [timing];
        return [
          {
            note: 'no packfile URI was given: the clone does not want every object of the repacked pack, or would get more than half as many besides it inline',
          },
        ];
      } finally {
        await rm(dest, { recursive: true, force: true });
      }
    },
  });

  /** `count` clones of the one repository at once, spread round-robin over the processes; the wall time of all. */
  const parallelClones = async (
    state: ServerState,
    repetition: number,
    count: number,
    processes: readonly ServerProcess[],
  ): Promise<Timing[]> => {
    state.requireLoaded();
    const clones = Array.from({ length: count }, (_, i) => ({
      url: processes[i % processes.length].url(MAIN_REPO),
      dest: path.join(state.dir, `parallel-${repetition}-${i}`),
    }));
    const pids = processes.map((p) => p.daemon.pid);
    const cpuBefore = await serverCpuSeconds(pids);
    const started = performance.now();
    try {
      await Promise.all(clones.map(({ url, dest }) => git.git(['clone', '--quiet', '--bare', url, dest])));
      const seconds = (performance.now() - started) / 1000;
      return [{ seconds, cpuSeconds: (await serverCpuSeconds(pids)) - cpuBefore }];
    } finally {
      await Promise.all(clones.map(({ dest }) => rm(dest, { recursive: true, force: true })));
    }
  };

  /** The pusher pushes `commits` new commits, then the fetcher (which has everything before them) fetches them. */
  const pushThenFetch = (commits: number): Operation => ({
    names: [commits === 1 ? 'push 1 commit' : `push ${commits} commits`, `fetch ${commits} new commit${commits === 1 ? '' : 's'}`],
    repetitions: repeat,
    async prepare(state) {
      state.requireLoaded();
      await state.pusherDir(git);
    },
    async run(state, repetition) {
      state.requireLoaded();
      const fetcher = await state.fetcherDir(git);
      const pusher = await state.pusherDir(git);
      for (let i = 0; i < commits; i++) await commitOneFile(git, pusher, source.branch, `${commits}-${repetition}-${i}`);
      const push = await timed(state.daemons, ['--git-dir', pusher, 'push', '--quiet', 'origin', `refs/heads/${source.branch}`]);
      const fetch = await timed(state.daemons, ['--git-dir', fetcher, 'fetch', '--quiet', 'origin']);
      return [push, fetch];
    },
  });

  return [
    source.pushCommits ? singleCommitPushes(git, source, source.pushCommits, timed) : fullPush(git, source, pushRepeat, timed),
    {
      names: ['ready for reads (maintenance / repack)'],
      repetitions: 1,
      always: true,
      async run(state) {
        state.requireLoaded();
        return [(await state.server.prepareLoaded?.(MAIN_REPO)) ?? {}];
      },
    },
    {
      names: ['ls-remote'],
      repetitions: repeat,
      async run(state) {
        state.requireLoaded();
        return [await timed(state.daemons, ['ls-remote', state.mainUrl])];
      },
    },
    clone('clone v0 (bare)', ['-c', 'protocol.version=0', '--bare']),
    clone(FULL_CLONE, ['-c', 'protocol.version=2', '--bare']),
    uriClone(`${FULL_CLONE}, packfile URIs`, ['-c', 'protocol.version=2', '--bare']),
    // Every ref, pull-request refs and the like included: a repository whose repacked pack holds
    // the history of such refs offers its URI to a clone of them all only.
    clone(MIRROR_CLONE, ['-c', 'protocol.version=2', '--mirror']),
    uriClone(`${MIRROR_CLONE}, packfile URIs`, ['-c', 'protocol.version=2', '--mirror']),
    clone('shallow clone --depth 1', ['--bare', '--depth', '1', '--branch', source.branch]),
    clone('partial clone blob:none', ['--filter=blob:none', '--no-checkout']),
    {
      names: ['no-op fetch'],
      repetitions: repeat,
      async prepare(state) {
        state.requireLoaded();
        await state.fetcherDir(git);
      },
      async run(state) {
        state.requireLoaded();
        const fetcher = await state.fetcherDir(git);
        return [await timed(state.daemons, ['--git-dir', fetcher, 'fetch', '--quiet', 'origin'])];
      },
    },
    pushThenFetch(1),
    pushThenFetch(MANY_COMMITS),
    concurrentPushers(git, repeat, 'git'),
    concurrentPushers(git, repeat, 'http'),
    ...parallel.flatMap((count): Operation[] => [
      {
        names: [`${count} parallel clones (bare)`],
        repetitions: parallelRepeat,
        throughput: { clones: count, processes: 1 },
        run: (state, repetition) => parallelClones(state, repetition, count, [state.server]),
      },
      {
        names: [`${count} parallel clones (bare), ${scaleOut.processes} processes`],
        repetitions: parallelRepeat,
        servers: scaleOut.servers,
        throughput: { clones: count, processes: scaleOut.processes },
        async prepare(state) {
          state.requireLoaded();
          await state.processesUpTo(git, scaleOut.processes);
        },
        run: async (state, repetition) => parallelClones(state, repetition, count, await state.processesUpTo(git, scaleOut.processes)),
      },
    ]),
  ];
}

/** Clients pushing to the one repository at once, and the pushes each makes one after another. */
const PUSHERS = 16;
const PUSHES_PER_PUSHER = 10;

/**
 * PUSHERS clients (accounts, where the server has them) push to the same repository at once,
 * each PUSHES_PER_PUSHER one-commit pushes to a branch of its own, one after another: the wall
 * time of all, and accepted pushes per second at the median time. Their commits are made beforehand,
 * untimed; every push must be accepted. The clients are real `git push` processes, or (`http`)
 * requests made by this process with packs made beforehand: on a machine whose cores the clients
 * share with the server, only the second shows what the server can take.
 */
function concurrentPushers(git: GitClient, repeat: number, client: 'git' | 'http'): Operation {
  const name = `${PUSHERS} concurrent pushers × ${PUSHES_PER_PUSHER} pushes (${client === 'git' ? 'git push' : 'HTTP client'})`;
  const pushers = new WeakMap<ServerState, Promise<Array<{ dir: string; url: string }>>>();
  const pushersOf = (state: ServerState) => {
    let made = pushers.get(state);
    if (!made) {
      made = (async () => {
        const fetcher = await state.fetcherDir(git);
        const urls: string[] = (await state.server.pusherUrls?.(MAIN_REPO, PUSHERS)) ?? Array<string>(PUSHERS).fill(state.mainUrl);
        return Promise.all(
          urls.map(async (url, k) => {
            const dir = path.join(state.dir, `concurrent-pusher-${client}-${k}.git`);
            await git.git(['clone', '--bare', '--quiet', '--local', fetcher, dir]);
            return { dir, url };
          }),
        );
      })();
      pushers.set(state, made);
    }
    return made;
  };
  return {
    names: [name],
    repetitions: repeat,
    completes: { count: PUSHERS * PUSHES_PER_PUSHER, what: 'accepted pushes' },
    async prepare(state) {
      state.requireLoaded();
      await pushersOf(state);
    },
    async run(state, repetition) {
      state.requireLoaded();
      const clients = await pushersOf(state);
      const pushesOf = await Promise.all(
        clients.map(async ({ dir, url }, k) => {
          const ref = `refs/heads/pusher-${client}-${k}-${repetition}`;
          const chain = await commitChain(git, dir, `pusher-${client}-${k}-${repetition}`, PUSHES_PER_PUSHER);
          if (client === 'git') return chain.map((commit) => () => git.git(['--git-dir', dir, 'push', '--quiet', url, `${commit}:${ref}`]));
          const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
          return (await preparePushes(dir, ref, chain)).map((push) => () => pushOverHttp(url, push, agent));
        }),
      );
      const pids = state.daemons.map((daemon) => daemon.pid);
      const cpuBefore = await serverCpuSeconds(pids);
      const started = performance.now();
      await Promise.all(
        pushesOf.map(async (pushes) => {
          for (const push of pushes) await push();
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const cpuSeconds = (await serverCpuSeconds(pids)) - cpuBefore;
      return [{ seconds, cpuSeconds }];
    },
  };
}

/** `count` commits, each on the one before, each adding one new small file; made in `gitDir` without a work tree. */
async function commitChain(git: GitClient, gitDir: string, label: string, count: number): Promise<string[]> {
  const at = (args: string[], input?: string) => git.git(['--git-dir', gitDir, ...args], { input });
  const commits: string[] = [];
  for (let i = 0; i < count; i++) {
    const blob = (await at(['hash-object', '-w', '--stdin'], `${label} push ${i}\n`)).stdout.trim();
    const tree = (await at(['mktree'], `100644 blob ${blob}\t${label}.txt\n`)).stdout.trim();
    const parent = commits.length > 0 ? ['-p', commits[commits.length - 1]] : [];
    commits.push((await at(['commit-tree', tree, ...parent, '-m', `${label} push ${i}`])).stdout.trim());
  }
  return commits;
}

/** The full clone: its peak server memory is reported beside its time. */
export const FULL_CLONE = 'clone v2 (bare)';
/** The clone of every ref (git clone --mirror). */
const MIRROR_CLONE = 'clone v2 (mirror)';

type Timer = (processes: readonly Daemon[], args: string[]) => Promise<Timing>;

/** Loads the repository with one push of all its refs (`git push --mirror` when all are pushed). */
function fullPush(git: GitClient, source: Source, pushRepeat: number, timed: Timer): Operation {
  return {
    names: ['full push'],
    repetitions: pushRepeat,
    always: true,
    async run(state, repetition) {
      // The first full push loads the repository every later operation uses: all servers start equal.
      const repo = repetition === 0 ? MAIN_REPO : `full-push-${repetition}`;
      await state.server.createRepo(repo);
      const url = state.server.url(repo);
      const what = source.mirror ? ['--mirror'] : source.refspecs;
      const timing = await timed(state.daemons, ['--git-dir', source.gitDir, 'push', '--quiet', url, ...what]);
      await verifyRefs(git, source, url);
      if (repetition === 0) state.loadError = undefined;
      return [timing];
    },
  };
}

/** Loads the repository with one push per commit, oldest first; the run's servers take turns per push. */
function singleCommitPushes(git: GitClient, source: Source, commits: readonly string[], timed: Timer): Operation {
  return {
    names: [`load: ${commits.length} single-commit pushes (each)`],
    repetitions: commits.length,
    always: true,
    async run(state, index) {
      if (index === 0) await state.server.createRepo(MAIN_REPO);
      const push = ['--git-dir', source.gitDir, 'push', '--quiet', state.mainUrl, `${commits[index]}:refs/heads/${source.branch}`];
      const timing = await timed(state.daemons, push);
      if (index === commits.length - 1) {
        await verifyRefs(git, source, state.mainUrl);
        state.loadError = undefined;
      }
      return [timing];
    },
  };
}

/** A push that "succeeds" but leaves refs out would make every later figure meaningless. */
async function verifyRefs(git: GitClient, source: Source, url: string): Promise<void> {
  const parse = (text: string) =>
    new Map(
      text
        .split('\n')
        .filter((line) => line && !line.endsWith('^{}'))
        .map((line) => line.split(/\s+/))
        .filter(([, ref]) => source.refPrefixes.some((prefix) => ref.startsWith(prefix)))
        .map(([id, ref]) => [ref, id] as const),
    );
  const expected = parse((await git.git(['--git-dir', source.gitDir, 'for-each-ref', '--format=%(objectname) %(refname)'])).stdout);
  const actual = parse((await git.git(['ls-remote', url])).stdout);
  const wrong = [...expected].filter(([ref, id]) => actual.get(ref) !== id).map(([ref]) => ref);
  if (wrong.length > 0)
    throw new Error(`after the push, ${wrong.length} of ${expected.size} refs differ on the server, e.g. ${wrong.slice(0, 5).join(', ')}`);
}

/** Adds one small file on top of the branch in a bare repository, without a work tree; `label` names it. */
async function commitOneFile(git: GitClient, gitDir: string, branch: string, label: string): Promise<void> {
  const ref = `refs/heads/${branch}`;
  const at = (args: string[], input?: string, env?: NodeJS.ProcessEnv) => git.git(['--git-dir', gitDir, ...args], { input, env });
  const blob = (await at(['hash-object', '-w', '--stdin'], `benchmark commit ${label} at ${Date.now()}\n`)).stdout.trim();
  const indexEnv = { GIT_INDEX_FILE: path.join(gitDir, 'bench-index') };
  await at(['read-tree', ref], undefined, indexEnv);
  await at(['update-index', '--add', '--cacheinfo', `100644,${blob},bench/commit-${label}.txt`], undefined, indexEnv);
  const tree = (await at(['write-tree'], undefined, indexEnv)).stdout.trim();
  const commit = (await at(['commit-tree', tree, '-p', ref, '-m', `benchmark commit ${label}`])).stdout.trim();
  await at(['update-ref', ref, commit]);
}
