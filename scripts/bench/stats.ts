import type { ServerName } from './servers.js';

export interface Measurement {
  op: string;
  server: ServerName;
  /** Seconds of each successful repetition, in the order run. */
  seconds: number[];
  /** CPU seconds (user + system) the server's processes spent in each successful repetition, where measured. */
  cpuSeconds: number[];
  /** What the report should say about this row (e.g. a step the build does not offer). */
  note?: string;
  /** Repetitions attempted (successful or not). */
  attempts: number;
  /** The error of the first failed repetition; later repetitions of a failing pair are skipped. */
  error?: string;
  /** Largest summed RSS of the server's process tree while this operation ran (its repetitions interleaved with other servers'). */
  peakRssBytes: number;
  /** Largest RSS of one of the server's processes meanwhile (a Gitfleet worker; a git http-backend forked). */
  peakProcessRssBytes?: number;
  /** Parallel clones: how many clones one run made, over how many server processes. */
  throughput?: { clones: number; processes: number };
  /** What one repetition completes: reported as a rate at the median time. */
  completes?: { count: number; what: string };
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

/**
 * The columns others are compared with, with their short names in headers: C git as pushed and
 * repacked with bitmaps (for every column), Gitfleet freshly repacked, and Gitfleet with one
 * process and with two workers (for the default's columns).
 */
const REFERENCES: ReadonlyArray<{ server: ServerName; label: string; for?: readonly ServerName[] }> = [
  { server: 'http-backend', label: 'pushed' },
  { server: 'http-backend-bitmaps', label: 'bitmaps' },
  { server: 'gitfleet-repacked', label: 'repacked', for: ['gitfleet'] },
  { server: 'gitfleet-1w', label: '1 worker', for: ['gitfleet'] },
  { server: 'gitfleet-s3-1w', label: '1 worker', for: ['gitfleet-s3'] },
  { server: 'gitfleet-2w', label: '2 workers', for: ['gitfleet'] },
  { server: 'gitfleet-s3-2w', label: '2 workers', for: ['gitfleet-s3'] },
];
const MIB = 1024 * 1024;

/**
 * The results of one repository: a row per case, per server its median wall time with the
 * spread of the repetitions [min–max], its ratio to each C git column, and the server's median
 * CPU seconds; then a row of the peak server memory during the full clone.
 */
export function formatTable(measurements: readonly Measurement[], servers: readonly ServerName[], memoryOp: string): string {
  const referencesFor = (server: ServerName) =>
    REFERENCES.filter((r) => r.server !== server && servers.includes(r.server) && (!r.for || r.for.includes(server)));
  const ratioHeader = (server: ServerName) => {
    const others = referencesFor(server);
    return others.length ? [`${server} × ${others.map((r) => r.label).join(' / ')}`] : [];
  };
  const header = ['case', ...servers.flatMap((server) => [`${server} s`, ...ratioHeader(server), `${server} CPU s`])];
  const ratios = (server: ServerName, value: (m: Measurement) => number | undefined, m: Measurement | undefined) => {
    const others = referencesFor(server);
    if (others.length === 0) return [];
    if (!m) return [''];
    const own = value(m);
    const cells = others.map((r) => {
      const reference = referenceOf(measurements, r.server, m);
      const theirs = reference && value(reference);
      return own && theirs ? (own / theirs).toFixed(2) : '-';
    });
    return [cells.join(' / ')];
  };
  const median = (values: readonly number[]) => summarize(values)?.median;
  const rows: string[][] = [];
  for (const op of [...new Set(measurements.map((m) => m.op))]) {
    const row = [op];
    for (const server of servers) {
      const m = measurements.find((r) => r.op === op && r.server === server);
      const cpu = m && median(m.cpuSeconds);
      row.push(timeCell(m), ...ratios(server, (r) => median(r.seconds), m), m ? (cpu?.toFixed(2) ?? '-') : '');
    }
    rows.push(row);
    if (op === memoryOp) {
      const memoryRow = (label: string, bytes: (m: Measurement) => number | undefined) => {
        const row = [`${label}, ${op}`];
        for (const server of servers) {
          const m = measurements.find((r) => r.op === op && r.server === server);
          const rss = (m && bytes(m)) || undefined;
          row.push(rss ? (rss / MIB).toFixed(0) : '-', ...ratios(server, (r) => bytes(r) || undefined, m), '');
        }
        return row;
      };
      rows.push(memoryRow('peak server RSS MiB', (m) => m.peakRssBytes));
      rows.push(memoryRow('peak RSS of one server process MiB', (m) => m.peakProcessRssBytes));
    }
  }
  return markdownTable(
    header,
    rows,
    header.map((_, i) => i).filter((i) => i > 0),
  );
}

/** "median [min–max]" of the repetitions, or why there is none. */
function timeCell(m: Measurement | undefined): string {
  if (!m) return '';
  const summary = summarize(m.seconds);
  const failed = m.error !== undefined ? ` FAILED ${m.seconds.length}/${m.attempts}` : '';
  if (!summary) return m.error !== undefined ? (m.attempts === 0 ? 'FAILED (set-up)' : 'FAILED') : m.note ? 'n/a' : '-';
  const spread = m.seconds.length > 1 ? ` [${summary.min.toFixed(3)}–${summary.max.toFixed(3)}]` : '';
  return `${summary.median.toFixed(3)}${spread}${failed}`;
}

/** The reference's row for the same work: the same case, or for scaled-out parallel clones, the same clones (it runs one process). */
function referenceOf(measurements: readonly Measurement[], reference: ServerName, m: Measurement): Measurement | undefined {
  return measurements.find(
    (r) =>
      r.server === reference &&
      (r.op === m.op || (m.throughput !== undefined && r.throughput?.clones === m.throughput.clones && r.throughput.processes === 1)),
  );
}

export function formatMemory(memory: ReadonlyArray<{ server: ServerName; peakTreeRssBytes: number; largestHwmBytes: number }>): string {
  return markdownTable(
    ['server', 'peak RSS of process tree MiB', 'largest VmHWM of one process MiB'],
    memory.map((m) => [m.server, (m.peakTreeRssBytes / MIB).toFixed(0), (m.largestHwmBytes / MIB).toFixed(0)]),
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
