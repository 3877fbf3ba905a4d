import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { GitClient } from '../git-client.js';
import type { Account, GitfleetApi } from './api.js';
import type { HookReceiver } from './receiver.js';
import type { Target } from './target.js';

/** What every attack may use: the server, its API, git, a scratch directory, the webhook receiver. */
export interface AttackContext {
  target: Target;
  api: GitfleetApi;
  receiver: HookReceiver;
  /** git for set-up work (pushing fixtures): bounded by the set-up timeout. */
  git: GitClient;
  /** A fresh directory for this attack's local repositories and inputs. */
  scratch(name: string): Promise<string>;
  /** A name no earlier run on the same server used (accounts, repositories, organisations). */
  unique(prefix: string): string;
  /** The set-up's own accounts, made once: `attacker` signs up like anyone; `victim` is who the attacker targets. */
  accounts(): Promise<{ attacker: Account; victim: Account }>;
}

/** The measured part of an attack: resolves with what the attacker got, in a few words. */
export type Strike = (limits: StrikeLimits) => Promise<string>;

export interface StrikeLimits {
  /** Aborted when the attack's time is up. */
  signal: AbortSignal;
  /** Milliseconds left before the attack's time is up (for child processes, which take a timeout). */
  remainingMs(): number;
}

export interface Attack {
  /** Short, unique, used by --only (a prefix selects a family: "pkt-bomb" runs every pkt-bomb-*). */
  name: string;
  /** The finding of issue 9 it reproduces. */
  finding: string;
  /** Unmeasured set-up (users, repositories, pushes of fixtures); returns the measured attack. */
  prepare(ctx: AttackContext): Promise<Strike>;
}

export function contextFor(options: {
  target: Target;
  api: GitfleetApi;
  receiver: HookReceiver;
  workDir: string;
  setupTimeoutMs: number;
  runTag: string;
}): AttackContext {
  let accounts: Promise<{ attacker: Account; victim: Account }> | undefined;
  let counter = 0;
  const unique = (prefix: string) => `${prefix}-${options.runTag}-${++counter}`;
  return {
    target: options.target,
    api: options.api,
    receiver: options.receiver,
    git: new GitClient(options.setupTimeoutMs),
    unique,
    async scratch(name) {
      const dir = path.join(options.workDir, 'scratch', unique(name));
      await mkdir(dir, { recursive: true });
      return dir;
    },
    accounts() {
      accounts ??= (async () => ({
        attacker: await options.api.createAccount(unique('attacker')),
        victim: await options.api.createAccount(unique('victim')),
      }))();
      // A failed set-up is retried by the next attack that needs it (the server may have been restarted).
      accounts.catch(() => (accounts = undefined));
      return accounts;
    },
  };
}

/** A value computed once, by the first attack of a family that needs it. */
export function once<T>(make: (ctx: AttackContext) => Promise<T>): (ctx: AttackContext) => Promise<T> {
  let made: Promise<T> | undefined;
  return (ctx) => {
    made ??= make(ctx);
    made.catch(() => (made = undefined));
    return made;
  };
}
