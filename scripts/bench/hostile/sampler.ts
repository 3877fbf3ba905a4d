import { existsSync } from 'node:fs';
import { processTreeRss } from '../rss.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProbeReport, ProbeSettings } from './probe-process.js';
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

/** VmRSS of a process and its descendants (a cluster's workers) in bytes, undefined once it is gone. */
export function rssOf(pid: number | undefined): number | undefined {
  if (pid === undefined || !existsSync(`/proc/${pid}`)) return undefined;
  return processTreeRss(pid);
}

/**
 * Samples the server while one attack runs: GET /healthz every `intervalMs` on a new connection
 * each (as a load balancer's check would), from a process of its own (probe-process.ts), and
 * its RSS. One probe runs at a time; a probe that took longer than the interval also stands for
 * the probes a steady prober would have sent meanwhile, so a stall of 10 s weighs as 10 s of
 * probes in the percentiles, not as one slow sample (coordinated omission).
 */
export class Sampler {
  private peakRss: number | undefined;
  private readonly prober: ChildProcess;
  /** Resolves once the prober has had its first answer: the attack starts then, probed from its start. */
  readonly ready: Promise<void>;
  private readonly report: Promise<ProbeReport>;
  private readonly rssTimer: NodeJS.Timeout;

  constructor(
    private readonly target: Target,
    intervalMs: number,
    probeTimeoutMs: number,
  ) {
    this.sampleRss();
    this.rssTimer = setInterval(() => this.sampleRss(), RSS_INTERVAL_MS);
    const settings: ProbeSettings = { url: `${target.base()}/healthz`, intervalMs, probeTimeoutMs };
    // The same node and loader flags (tsx) as this process.
    const script = fileURLToPath(new URL('./probe-process.ts', import.meta.url));
    this.prober = spawn(process.execPath, [...process.execArgv, script, JSON.stringify(settings)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let output = '';
    let announceReady!: () => void;
    this.ready = new Promise((resolve) => (announceReady = resolve));
    this.prober.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.startsWith('ready\n')) announceReady();
    });
    this.report = new Promise((resolve, reject) => {
      this.prober.once('error', reject);
      this.prober.once('close', (code) => {
        announceReady();
        if (code === 0) resolve(JSON.parse(output.slice('ready\n'.length)) as ProbeReport);
        else reject(new Error(`the /healthz prober exited with ${code}`));
      });
    });
  }

  async stop(): Promise<SampleWindow> {
    clearInterval(this.rssTimer);
    this.prober.stdin!.end();
    const report = await this.report;
    return { health: summary(report), peakRssBytes: this.peakRss };
  }

  private sampleRss(): void {
    const rss = rssOf(this.target.pid());
    if (rss !== undefined) this.peakRss = Math.max(this.peakRss ?? 0, rss);
  }
}

function summary({ latencies, failures, timeouts }: ProbeReport): HealthSummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
  return {
    probes: sorted.length,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: sorted.length === 0 ? NaN : sorted[sorted.length - 1],
    failures,
    timeouts,
  };
}
