import { rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { GitClient } from './git-client.js';
import type { BenchServer } from './servers.js';

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

  constructor(
    readonly server: BenchServer,
    /** Client-side scratch space for this server's clones. */
    readonly dir: string,
  ) {}

  get mainUrl(): string {
    return this.server.url(MAIN_REPO);
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
}

export function operations({ git, source, repeat, pushRepeat, parallel, parallelRepeat }: OperationOptions): Operation[] {
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
    ...parallel.map(
      (count): Operation => ({
        names: [`${count} parallel clones (bare)`],
        repetitions: parallelRepeat,
        async run(state, repetition) {
          state.requireLoaded();
          const dests = Array.from({ length: count }, (_, i) => path.join(state.dir, `parallel-${repetition}-${i}`));
          const started = performance.now();
          try {
            await Promise.all(dests.map((dest) => git.git(['clone', '--quiet', '--bare', state.mainUrl, dest])));
            return [(performance.now() - started) / 1000];
          } finally {
            await Promise.all(dests.map((dest) => rm(dest, { recursive: true, force: true })));
          }
        },
      }),
    ),
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
  if (wrong.length > 0) throw new Error(`after the push, ${wrong.length} of ${expected.size} refs differ on the server, e.g. ${wrong.slice(0, 5).join(', ')}`);
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
