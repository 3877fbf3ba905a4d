import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TEST_ADMIN_TOKEN } from './admin.js';
import { isolatedGitConfig } from './git.js';

/** The protocol versions every end-to-end case runs under. */
export const PROTOCOLS = [0, 2] as const;
export type WireProtocol = (typeof PROTOCOLS)[number];

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  input?: string | Buffer;
  env?: Record<string, string>;
}

/**
 * The user's global config for every test git. transfer.fsckObjects makes every clone and
 * fetch verify what the server sends; gc and commit-graph writing stay off so that a
 * repository's packs only change when the test changes them. The uploadpack settings only
 * affect git's own upload-pack, used as the oracle over file:// URLs.
 */
const GLOBAL_CONFIG = `[init]
	defaultBranch = main
[user]
	name = E2E Tester
	email = e2e@example.test
[transfer]
	fsckObjects = true
[gc]
	auto = 0
[maintenance]
	auto = false
[fetch]
	writeCommitGraph = false
[core]
	autocrlf = false
[advice]
	detachedHead = false
[uploadpack]
	allowFilter = true
	allowAnySHA1InWant = true
[protocol "file"]
	allow = always
`;

/** The Authorization header of TEST_ADMIN, which test gits send unless told otherwise. */
export const ADMIN_AUTHORIZATION = `Bearer ${TEST_ADMIN_TOKEN}`;

export interface GitClientOptions {
  /**
   * Sent with every HTTP request (http.extraHeader); null sends none, leaving git anonymous
   * (or to a credential helper). Default: TEST_ADMIN's token, who may do anything.
   */
  authorization?: string | null;
}

/**
 * Runs the real git as an end-to-end client: a clean environment (only PATH from this
 * process), a HOME of its own whose global config is GLOBAL_CONFIG, and `-c protocol.version=N`
 * on every command, so one test body can be run under each wire protocol. Its commits take
 * the real clock: two clients committing the same change must make two commits.
 */
export class GitClient {
  private constructor(
    readonly protocol: WireProtocol,
    readonly root: string,
    private readonly home: string,
    private readonly authorization: string | null,
  ) {}

  static async create(protocol: WireProtocol, { authorization = ADMIN_AUTHORIZATION }: GitClientOptions = {}): Promise<GitClient> {
    const root = await mkdtemp(join(tmpdir(), `gitfleet-e2e-v${protocol}-`));
    const home = join(root, 'home');
    await mkdir(home);
    await writeFile(join(home, '.gitconfig'), GLOBAL_CONFIG);
    return new GitClient(protocol, root, home, authorization);
  }

  /** A fresh, empty directory under this client's temporary root. */
  async tempDir(prefix: string): Promise<string> {
    return mkdtemp(join(this.root, `${prefix}-`));
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...isolatedGitConfig({ home: this.home, globalConfig: join(this.home, '.gitconfig') }),
      GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: 'E2E Tester',
      GIT_AUTHOR_EMAIL: 'e2e@example.test',
      GIT_COMMITTER_NAME: 'E2E Tester',
      GIT_COMMITTER_EMAIL: 'e2e@example.test',
      LC_ALL: 'C',
      TZ: 'UTC',
      ...extra,
    };
  }

  /** Runs git; never throws on a non-zero exit (see `ok` and `fails`). */
  async run(args: string[], options: RunOptions = {}): Promise<GitResult> {
    const { code, stdout, stderr } = await this.spawn(args, options);
    return { code, stdout: stdout.toString('utf8'), stderr };
  }

  /** Runs git and returns its raw stdout (packs, blobs); throws if it fails. */
  async bytes(args: string[], options: RunOptions = {}): Promise<Buffer> {
    const { code, stdout, stderr } = await this.spawn(args, options);
    if (code !== 0) throw new Error(`git ${args.join(' ')} (protocol v${this.protocol}) exited ${code}\n${stderr}`);
    return stdout;
  }

  private spawn(args: string[], options: RunOptions): Promise<{ code: number; stdout: Buffer; stderr: string }> {
    const auth = this.authorization === null ? [] : ['-c', `http.extraHeader=Authorization: ${this.authorization}`];
    const fullArgs = ['-c', `protocol.version=${this.protocol}`, ...auth, ...args];
    return new Promise((resolve, reject) => {
      const child = spawn('git', fullArgs, {
        cwd: options.cwd ?? this.root,
        env: this.env(options.env),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        resolve({
          code: code ?? (signal ? 128 : 1),
          stdout: Buffer.concat(out),
          stderr: Buffer.concat(err).toString('utf8'),
        });
      });
      // A git that exits early (an expected failure) closes stdin; that is not our error.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    });
  }

  /** Runs git and returns its trimmed stdout; throws with both streams if it fails. */
  async ok(args: string[], options: RunOptions = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.code !== 0) {
      throw new Error(
        `git ${args.join(' ')} (protocol v${this.protocol}, cwd ${options.cwd ?? this.root}) exited ${result.code}\n` +
          `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
      );
    }
    return result.stdout.trim();
  }

  /** Runs git, expects a non-zero exit and returns the result for further checks. */
  async fails(args: string[], options: RunOptions = {}): Promise<GitResult> {
    const result = await this.run(args, options);
    if (result.code === 0) {
      throw new Error(
        `git ${args.join(' ')} (protocol v${this.protocol}) was expected to fail but succeeded\n` +
          `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
      );
    }
    return result;
  }

  /** `git init` (bare or with a work tree) in a new temporary directory. */
  async init(prefix: string, { bare = false } = {}): Promise<string> {
    const dir = await this.tempDir(prefix);
    await this.ok(['init', '-q', ...(bare ? ['--bare'] : []), dir]);
    return dir;
  }

  /** `git clone` into a new temporary directory; `args` go before the URL. */
  async clone(url: string, prefix: string, args: string[] = []): Promise<string> {
    const dir = join(await this.tempDir(prefix), 'repo');
    await this.ok(['clone', '-q', ...args, url, dir]);
    return dir;
  }

  /** Writes the files into a work tree and commits them; returns the new commit id. */
  async commitFiles(dir: string, files: Record<string, string | Buffer>, message: string): Promise<string> {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    await this.ok(['add', '-A'], { cwd: dir });
    await this.ok(['commit', '-q', '--allow-empty', '-m', message], { cwd: dir });
    return this.ok(['rev-parse', 'HEAD'], { cwd: dir });
  }

  async revParse(dir: string, rev: string): Promise<string> {
    return this.ok(['rev-parse', '--verify', '--end-of-options', rev], { cwd: dir });
  }

  async cleanup(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
