import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from './http.js';
import type { Target } from './target.js';

export interface HealthSummary {
  probes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Probes answered with another status than 200, or whose connection failed. */
  failures: number;
  /** Probes not answered within the probe timeout. */
  timeouts: number;
}

export interface SampleWindow {
  health: HealthSummary;
  /** Largest VmRSS seen, bytes; undefined without a pid. */
  peakRssBytes: number | undefined;
}

const RSS_INTERVAL_MS = 20;

/** VmRSS of a process in bytes, undefined once it is gone. */
export function rssOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, undefined once it is gone. */
export function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command name, which may itself hold spaces: state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * Samples the server while one attack runs: GET /healthz every `intervalMs` on a new connection
 * each (as a load balancer's check would), and its RSS. One probe runs at a time; a probe that
 * took longer than the interval also stands for the probes a steady prober would have sent
 * meanwhile (answered when it was), so a stall of 10 s weighs as 10 s of probes in the
 * percentiles, not as one slow sample (coordinated omission).
 */
export class Sampler {
  private readonly latencies: number[] = [];
  private failures = 0;
  private timeouts = 0;
  private peakRss: number | undefined;
  private running = true;
  private readonly probing: Promise<void>;
  private readonly rssTimer: NodeJS.Timeout;

  constructor(
    private readonly target: Target,
    private readonly intervalMs: number,
    private readonly probeTimeoutMs: number,
  ) {
    this.sampleRss();
    this.rssTimer = setInterval(() => this.sampleRss(), RSS_INTERVAL_MS);
    this.probing = this.probe();
  }

  async stop(): Promise<SampleWindow> {
    this.running = false;
    clearInterval(this.rssTimer);
    await this.probing;
    return { health: this.summary(), peakRssBytes: this.peakRss };
  }

  private sampleRss(): void {
    const rss = rssOf(this.target.pid());
    if (rss !== undefined) this.peakRss = Math.max(this.peakRss ?? 0, rss);
  }

  private async probe(): Promise<void> {
    while (this.running) {
      const started = performance.now();
      try {
        const answer = await request(`${this.target.base()}/healthz`, { timeoutMs: this.probeTimeoutMs });
        if (answer.status !== 200) this.failures++;
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('no answer within')) this.timeouts++;
        else this.failures++;
      }
      const took = performance.now() - started;
      for (let missed = took; missed > 0; missed -= this.intervalMs) this.latencies.push(missed);
      await sleep(Math.max(0, this.intervalMs - took));
    }
  }

  private summary(): HealthSummary {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
    return {
      probes: sorted.length,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: sorted.length === 0 ? NaN : sorted[sorted.length - 1],
      failures: this.failures,
      timeouts: this.timeouts,
    };
  }
}
