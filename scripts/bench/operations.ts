import { rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Daemon } from './daemon.js';
import type { GitClient } from './git-client.js';
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

/** An operation measured on every server; one run may time several things (their names, in order). */
export interface Operation {
  names: string[];
  repetitions: number;
  /** Servers it applies to; the others get no row. Default: all. */
  servers?: readonly ServerName[];
  /** For parallel clones: how many clones one run makes and over how many server processes. */
  throughput?: { clones: number; processes: number };
  /** Untimed set-up, done before the memory of the operation is watched. */
  prepare?(state: ServerState): Promise<void>;
  run(state: ServerState, repetition: number): Promise<number[]>;
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

export function operations({ git, source, repeat, pushRepeat, parallel, parallelRepeat, scaleOut }: OperationOptions): Operation[] {
  const clone = (name: string, args: string[]): Operation => ({
    names: [name],
    repetitions: repeat,
    async run(state, repetition) {
      state.requireLoaded();
      const dest = path.join(state.dir, `clone-${repetition}`);
      try {
        return [await git.seconds(['clone', '--quiet', ...args, state.mainUrl, dest])];
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
  ): Promise<number[]> => {
    state.requireLoaded();
    const clones = Array.from({ length: count }, (_, i) => ({
      url: processes[i % processes.length].url(MAIN_REPO),
      dest: path.join(state.dir, `parallel-${repetition}-${i}`),
    }));
    const started = performance.now();
    try {
      await Promise.all(clones.map(({ url, dest }) => git.git(['clone', '--quiet', '--bare', url, dest])));
      return [(performance.now() - started) / 1000];
    } finally {
      await Promise.all(clones.map(({ dest }) => rm(dest, { recursive: true, force: true })));
    }
  };

  return [
    {
      names: ['full push'],
      repetitions: pushRepeat,
      async run(state, repetition) {
        // The first full push loads the repository every later operation uses: all servers start equal.
        const repo = repetition === 0 ? MAIN_REPO : `full-push-${repetition}`;
        await state.server.createRepo(repo);
        const url = state.server.url(repo);
        const seconds = await git.seconds(['--git-dir', source.gitDir, 'push', '--quiet', url, ...source.refspecs]);
        await verifyRefs(git, source, url);
        if (repetition === 0) state.loadError = undefined;
        return [seconds];
      },
    },
    {
      names: ['ls-remote'],
      repetitions: repeat,
      async run(state) {
        state.requireLoaded();
        return [await git.seconds(['ls-remote', state.mainUrl])];
      },
    },
    clone('clone v0 (bare)', ['-c', 'protocol.version=0', '--bare']),
    clone('clone v2 (bare)', ['-c', 'protocol.version=2', '--bare']),
    // --depth implies --single-branch: name the branch, since HEAD may be unborn (git.git has no main).
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
        return [await git.seconds(['--git-dir', fetcher, 'fetch', '--quiet', 'origin'])];
      },
    },
    {
      // The fetcher is always one commit behind when it fetches: the pusher has just pushed one.
      names: ['push 1 commit', 'incremental fetch (1 commit)'],
      repetitions: repeat,
      async prepare(state) {
        state.requireLoaded();
        await state.pusherDir(git);
      },
      async run(state, repetition) {
        state.requireLoaded();
        const fetcher = await state.fetcherDir(git);
        const pusher = await state.pusherDir(git);
        await commitOneFile(git, pusher, source.branch, repetition);
        const push = await git.seconds(['--git-dir', pusher, 'push', '--quiet', 'origin', `refs/heads/${source.branch}`]);
        const fetch = await git.seconds(['--git-dir', fetcher, 'fetch', '--quiet', 'origin']);
        return [push, fetch];
      },
    },
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

/** Adds one small file on top of the branch in a bare repository, without a work tree. */
async function commitOneFile(git: GitClient, gitDir: string, branch: string, repetition: number): Promise<void> {
  const ref = `refs/heads/${branch}`;
  const at = (args: string[], input?: string, env?: NodeJS.ProcessEnv) => git.git(['--git-dir', gitDir, ...args], { input, env });
  const blob = (await at(['hash-object', '-w', '--stdin'], `benchmark commit ${repetition} at ${Date.now()}\n`)).stdout.trim();
  const indexEnv = { GIT_INDEX_FILE: path.join(gitDir, 'bench-index') };
  await at(['read-tree', ref], undefined, indexEnv);
  await at(['update-index', '--add', '--cacheinfo', `100644,${blob},bench/commit-${repetition}.txt`], undefined, indexEnv);
  const tree = (await at(['write-tree'], undefined, indexEnv)).stdout.trim();
  const commit = (await at(['commit-tree', tree, '-p', ref, '-m', `benchmark commit ${repetition}`])).stdout.trim();
  await at(['update-ref', ref, commit]);
}
