import type { ServerName } from './servers.js';

export interface Measurement {
  op: string;
  server: ServerName;
  /** Seconds of each successful repetition, in the order run. */
  seconds: number[];
  /** Repetitions attempted (successful or not). */
  attempts: number;
  /** The error of the first failed repetition; later repetitions of a failing pair are skipped. */
  error?: string;
  /** Largest summed RSS of the server's process tree while this operation ran. */
  peakRssBytes: number;
  /** Parallel clones: how many clones one run made, over how many server processes. */
  throughput?: { clones: number; processes: number };
}

export interface Summary {
  min: number;
  median: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { min: sorted[0], median, max: sorted[sorted.length - 1] };
}

const REFERENCE: ServerName = 'http-backend';
const MIB = 1024 * 1024;

/** The results table: one row per operation and server, the ratio against git http-backend's median. */
export function formatTable(measurements: readonly Measurement[]): string {
  const header = ['operation', 'server', 'min s', 'median s', 'max s', '× http-backend', 'peak RSS MiB', 'runs'];
  const rows: string[][] = [];
  for (const m of measurements) {
    const summary = summarize(m.seconds);
    const reference = summarize(referenceOf(measurements, m)?.seconds ?? []);
    const failed = m.error !== undefined;
    rows.push([
      m.op,
      m.server,
      summary ? summary.min.toFixed(3) : '-',
      summary ? summary.median.toFixed(3) : '-',
      summary ? summary.max.toFixed(3) : '-',
      summary && reference ? `${(summary.median / reference.median).toFixed(2)}` : '-',
      (m.peakRssBytes / MIB).toFixed(0),
      failed ? (m.attempts === 0 ? 'FAILED (set-up)' : `FAILED (${m.seconds.length}/${m.attempts} ok)`) : `${m.seconds.length}`,
    ]);
  }
  return markdownTable(header, rows, [2, 3, 4, 5, 6]);
}

/** http-backend's row for the same work: the same operation, or for scaled-out parallel clones, the same clones (it runs one process). */
function referenceOf(measurements: readonly Measurement[], m: Measurement): Measurement | undefined {
  return measurements.find(
    (r) =>
      r.server === REFERENCE &&
      (r.op === m.op || (m.throughput !== undefined && r.throughput?.clones === m.throughput.clones && r.throughput.processes === 1)),
  );
}

export function formatMemory(memory: ReadonlyArray<{ server: ServerName; peakTreeRssBytes: number; mainHwmBytes: number }>): string {
  return markdownTable(
    ['server', 'peak RSS of process tree MiB', 'VmHWM of main process MiB'],
    memory.map((m) => [m.server, (m.peakTreeRssBytes / MIB).toFixed(0), (m.mainHwmBytes / MIB).toFixed(0)]),
    [1, 2],
  );
}

/**
 * Parallel-clone throughput: clones per minute (from the median wall time of each run), and for
 * a server run as several processes, the gain over its one process on the same clones.
 */
export function formatThroughput(measurements: readonly Measurement[]): string {
  const rows: string[][] = [];
  for (const m of measurements) {
    if (!m.throughput) continue;
    const summary = summarize(m.seconds);
    const single = measurements.find(
      (r) => r.server === m.server && r.throughput?.clones === m.throughput!.clones && r.throughput.processes === 1,
    );
    const singleSummary = summarize(single?.seconds ?? []);
    const perMinute = (s: number) => (m.throughput!.clones * 60) / s;
    rows.push([
      m.server,
      String(m.throughput.clones),
      String(m.throughput.processes),
      summary ? summary.median.toFixed(1) : '-',
      summary ? perMinute(summary.median).toFixed(1) : m.error !== undefined ? 'FAILED' : '-',
      summary && singleSummary && m.throughput.processes > 1 ? `${(singleSummary.median / summary.median).toFixed(2)}` : '',
    ]);
  }
  return markdownTable(['server', 'parallel clones', 'server processes', 'median s', 'clones/min', '× 1 process'], rows, [1, 2, 3, 4, 5]);
}

export function markdownTable(header: string[], rows: string[][], numericColumns: number[]): string {
  const numeric = new Set(numericColumns);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
