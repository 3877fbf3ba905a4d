import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { markdownTable } from '../stats.js';
import type { Attack, AttackContext, Strike } from './attack.js';
import { describeError, shorten } from './http.js';
import { processTreeCpuSeconds } from '../cpu.js';
import { rssOf, Sampler, type HealthSummary } from './sampler.js';
import { healthy } from './target.js';

export interface HarnessOptions {
  attackTimeoutMs: number;
  setupTimeoutMs: number;
  /** How long a server may take to answer /healthz again after an attack before it is restarted. */
  recoverTimeoutMs: number;
  probeIntervalMs: number;
  probeTimeoutMs: number;
  /**
   * Restart the server between an attack's set-up and the attack (when the benchmark started it):
   * each attack then meets a server of baseline memory and no work left over from the one before.
   */
  freshServer: boolean;
  log(line: string): void;
}

export interface AttackResult {
  attack: string;
  finding: string;
  /** What the attacker got; or why there is no answer (time out, set-up failure, server down). */
  outcome: string;
  seconds: number;
  rssBeforeBytes?: number;
  peakRssBytes?: number;
  health?: HealthSummary;
  /** "up", "up, idle after 12.3 s", "DIED (…) → restarted", "unresponsive 120 s → restarted". */
  serverAfter: string;
}

const RECOVERY_POLL_MS = 250;
const RECOVERY_PROBE_TIMEOUT_MS = 1_000;
/** A server using more than this share of a core is still working on the last attack (an abandoned request runs on). */
const BUSY_CORES = 0.5;
const BUSY_WINDOW_MS = 1_000;

/** Runs the attacks one at a time, each measured alone, the server brought back between them if it fell. */
export async function runAttacks(attacks: readonly Attack[], ctx: AttackContext, options: HarnessOptions): Promise<AttackResult[]> {
  const results: AttackResult[] = [];
  let serverLost: string | undefined;
  for (const attack of attacks) {
    if (serverLost) {
      results.push({ attack: attack.name, finding: attack.finding, outcome: `not run: ${serverLost}`, seconds: 0, serverAfter: 'down' });
      continue;
    }
    options.log(`▶ ${attack.name} (finding ${attack.finding}): setting up`);
    const result = await runOne(attack, ctx, options);
    options.log(`  ${result.outcome}`);
    options.log(`  ${result.seconds.toFixed(1)} s, healthz max ${formatMs(result.health?.maxMs)} ms, server ${result.serverAfter}`);
    results.push(result);
    if (result.serverAfter.startsWith('down')) serverLost = `the server went down during ${attack.name}`;
  }
  return results;
}

async function runOne(attack: Attack, ctx: AttackContext, options: HarnessOptions): Promise<AttackResult> {
  const base = { attack: attack.name, finding: attack.finding };
  let strike: Strike;
  try {
    strike = await withTimeout(attack.prepare(ctx), options.setupTimeoutMs, 'set-up');
  } catch (error) {
    return {
      ...base,
      outcome: `set-up failed: ${shorten(describeError(error), 160)}`,
      seconds: 0,
      serverAfter: await bringBack(ctx, options),
    };
  }

  if (options.freshServer && ctx.target.restartable) {
    try {
      await ctx.target.restart();
    } catch (error) {
      return { ...base, outcome: `not run: restarting the server failed: ${describeError(error)}`, seconds: 0, serverAfter: 'down' };
    }
  }
  options.log(`  attacking (at most ${options.attackTimeoutMs / 1000} s)`);
  const rssBeforeBytes = rssOf(ctx.target.pid());
  const sampler = new Sampler(ctx.target, options.probeIntervalMs, options.probeTimeoutMs);
  await sampler.ready;
  const controller = new AbortController();
  // Every request of an attack listens to it (200 parallel guesses, 2,000 slow clients).
  setMaxListeners(Infinity, controller.signal);
  const started = performance.now();
  const deadline = started + options.attackTimeoutMs;
  let outcome: string;
  try {
    outcome = await withTimeout(
      strike({ signal: controller.signal, remainingMs: () => Math.max(1, Math.round(deadline - performance.now())) }),
      options.attackTimeoutMs,
      'attack',
    );
  } catch (error) {
    outcome =
      error instanceof TimedOut ? `TIMEOUT: no end after ${options.attackTimeoutMs / 1000} s` : `attack failed: ${describeError(error)}`;
  } finally {
    controller.abort();
  }
  const seconds = (performance.now() - started) / 1000;
  const window = await sampler.stop();
  return {
    ...base,
    outcome,
    seconds,
    rssBeforeBytes,
    peakRssBytes: window.peakRssBytes,
    health: window.health,
    serverAfter: await bringBack(ctx, options),
  };
}

/**
 * Waits for the server to answer again and to stop working on the attack (so that the next one
 * is measured alone); restarts it when it died, stays unresponsive or stays busy (if it can).
 */
async function bringBack(ctx: AttackContext, options: HarnessOptions): Promise<string> {
  const { target } = ctx;
  const started = performance.now();
  let problem: string | undefined;
  while (!problem) {
    const overdue = performance.now() - started > options.recoverTimeoutMs;
    if (!target.processAlive()) problem = `DIED (${target.exitStatus() ?? 'process gone'})`;
    else if (!(await healthy(target, RECOVERY_PROBE_TIMEOUT_MS))) {
      if (overdue) problem = `unresponsive ${(options.recoverTimeoutMs / 1000).toFixed(0)} s`;
      else await sleep(RECOVERY_POLL_MS);
    } else if (await busy(target.pid())) {
      if (overdue) problem = `still busy after ${(options.recoverTimeoutMs / 1000).toFixed(0)} s`;
    } else {
      const waited = (performance.now() - started) / 1000;
      return waited < 1.5 ? 'up' : `up, idle after ${waited.toFixed(1)} s`;
    }
  }
  if (!target.restartable) return `down: ${problem}`;
  options.log(`  ${problem}: restarting the server`);
  try {
    await target.restart();
    return `${problem} → restarted`;
  } catch (error) {
    return `down: ${problem}, restart failed: ${describeError(error)}`;
  }
}

/** True when the server's processes used more than BUSY_CORES over the next BUSY_WINDOW_MS (false when its CPU cannot be read). */
async function busy(pid: number | undefined): Promise<boolean> {
  const before = processTreeCpuSeconds(pid);
  await sleep(BUSY_WINDOW_MS);
  const after = processTreeCpuSeconds(pid);
  return before !== undefined && after !== undefined && after - before > (BUSY_CORES * BUSY_WINDOW_MS) / 1000;
}

class TimedOut extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut(`${what} took over ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const MIB = 1024 * 1024;

function formatMs(ms: number | undefined): string {
  return ms === undefined || Number.isNaN(ms) ? '-' : ms < 10 ? ms.toFixed(1) : ms.toFixed(0);
}

function formatMib(bytes: number | undefined): string {
  return bytes === undefined ? '-' : (bytes / MIB).toFixed(0);
}

/** The results as one markdown table, a row per attack. */
export function formatResults(results: readonly AttackResult[], outcomeChars: number): string {
  const rows = results.map((r) => [
    r.attack,
    r.finding,
    shorten(r.outcome, outcomeChars),
    r.seconds.toFixed(1),
    formatMib(r.rssBeforeBytes),
    formatMib(r.peakRssBytes),
    formatMs(r.health?.p50Ms),
    formatMs(r.health?.p99Ms),
    formatMs(r.health?.maxMs),
    r.health ? `${r.health.failures}/${r.health.timeouts}` : '-',
    r.serverAfter,
  ]);
  return markdownTable(
    [
      'attack',
      '#',
      'attacker got',
      's',
      'RSS before MiB',
      'peak RSS MiB',
      'healthz p50 ms',
      'p99 ms',
      'max ms',
      'healthz failed/timed out',
      'server after',
    ],
    rows,
    [3, 4, 5, 6, 7, 8],
  );
}
