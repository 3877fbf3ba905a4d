import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandFailed, type RunResult } from './exec.js';

/** How Gitfleet's repository is readied after loading, before the read cases. */
export const MAINTENANCE_MODES = ['none', 'auto', 'full'] as const;
export type MaintenanceMode = (typeof MAINTENANCE_MODES)[number];

/** Runs `gitfleet <args>` with the server's own environment (data directory, backends). */
export type GitfleetCli = (args: string[]) => Promise<RunResult>;

/** What readying a loaded repository did: its wall time when it did something, and what the report should say. */
export interface PrepareOutcome {
  seconds?: number;
  note?: string;
}

/** Automatic maintenance counts as idle once the pack count it reports has not changed for this long. */
const IDLE_MS = 5000;
const STATUS_POLL_MS = 1000;

/**
 * Readies `repo` (owner/name) for the read cases. `full` runs `gitfleet maintenance run --full`;
 * `auto` waits until the maintenance that pushes started by themselves is idle; `none` leaves the
 * repository as pushed. A CLI without the `maintenance` command is not an error: the note says
 * so and the run goes on with the repository as it is.
 */
export async function prepareWithMaintenance(
  cli: GitfleetCli,
  repo: string,
  mode: MaintenanceMode,
  timeoutMs: number,
): Promise<PrepareOutcome> {
  if (mode === 'none') return {};
  if (mode === 'full') {
    const args = ['maintenance', 'run', repo, '--full'];
    try {
      return { seconds: (await cli(args)).seconds, note: `\`gitfleet ${args.join(' ')}\` after loading` };
    } catch (error) {
      if (isUnknownCommand(error)) return { note: unavailable(args, error) };
      throw error;
    }
  }
  return waitUntilIdle(cli, repo, timeoutMs);
}

/**
 * Polls `gitfleet maintenance status` until no run is under way and the pack count it reports
 * has stayed the same for IDLE_MS; seconds = until it last changed. (A full repack of a
 * repository of one pack leaves the count at one: only the run itself tells it is not over.)
 */
async function waitUntilIdle(cli: GitfleetCli, repo: string, timeoutMs: number): Promise<PrepareOutcome> {
  const args = ['maintenance', 'status', repo];
  const started = performance.now();
  let last: string | undefined;
  let changedAt = started;
  for (;;) {
    let output: string;
    try {
      output = (await cli(args)).stdout;
    } catch (error) {
      if (isUnknownCommand(error)) return { note: `${unavailable(args, error)}; did not wait for automatic maintenance` };
      throw error;
    }
    const running = /^running now:/m.test(output);
    const count = packCount(output);
    const now = performance.now();
    if (count !== last || running) {
      last = count;
      changedAt = now;
    } else if (now - changedAt >= IDLE_MS) {
      return {
        seconds: (changedAt - started) / 1000,
        note: `automatic maintenance idle (\`gitfleet ${args.join(' ')}\`: ${describe(count)} for ${IDLE_MS / 1000} s)`,
      };
    }
    if (now - started > timeoutMs)
      throw new Error(`automatic maintenance of ${repo} not idle after ${timeoutMs / 1000} s (last: ${describe(last)})`);
    await sleep(STATUS_POLL_MS);
  }
}

/**
 * The pack count in the status output ("packs: 3", "3 packs", JSON "packs": 3). An output
 * that names none is compared whole, so that any change still counts as activity.
 */
function packCount(output: string): string {
  const match = /\bpacks?\b\W{0,3}(\d+)|(\d+)\s+packs?\b/i.exec(output);
  return match ? `packs ${match[1] ?? match[2]}` : output.trim();
}

function describe(count: string | undefined): string {
  return count === undefined ? 'nothing' : count.startsWith('packs ') ? count.replace('packs ', 'pack count ') : 'output unchanged';
}

function isUnknownCommand(error: unknown): error is CommandFailed {
  return error instanceof CommandFailed && /unknown command/i.test(error.stderr);
}

function unavailable(args: string[], error: CommandFailed): string {
  return `\`gitfleet ${args.join(' ')}\` is not available in this build (${error.stderr.trim().split('\n')[0]})`;
}
