// The /healthz prober, in a process of its own: its timing must not include the delays of the
// benchmark's event loop, which is busy sending the attack (hundreds of requests, gigabytes of
// responses) at the same time. Settings come as JSON in argv[2]; it writes a line once its first
// probe is answered, probes until its stdin closes, then writes its report as JSON on stdout.
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from './http.js';

export interface ProbeSettings {
  url: string;
  intervalMs: number;
  probeTimeoutMs: number;
}

/** What the prober reports once told to stop. */
export interface ProbeReport {
  latencies: number[];
  failures: number;
  timeouts: number;
}

const { url, intervalMs, probeTimeoutMs } = JSON.parse(process.argv[2]) as ProbeSettings;
let running = true;
process.stdin.resume();
process.stdin.once('end', () => (running = false));

const report: ProbeReport = { latencies: [], failures: 0, timeouts: 0 };
while (running) {
  const started = performance.now();
  try {
    const answer = await request(url, { timeoutMs: probeTimeoutMs });
    if (answer.status !== 200) report.failures++;
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('no answer within')) report.timeouts++;
    else report.failures++;
  }
  const took = performance.now() - started;
  if (report.latencies.length === 0) process.stdout.write('ready\n');
  // A probe that took longer than the interval also stands for the probes a steady prober
  // would have sent meanwhile (coordinated omission).
  for (let missed = took; missed > 0; missed -= intervalMs) report.latencies.push(missed);
  await sleep(Math.max(0, intervalMs - took));
}
process.stdout.write(JSON.stringify(report));
