import { readFileSync, readdirSync } from 'node:fs';

const SAMPLE_INTERVAL_MS = 100;

/** Peak memory of one server: its process tree's summed RSS, and the kernel's high-water mark of the main process. */
export interface MemoryPeaks {
  /** Largest sum of VmRSS over the server process and all its descendants seen at one sample. */
  peakTreeRssBytes: number;
  /** VmHWM of the main server process at its last sample. */
  mainHwmBytes: number;
}

/**
 * Samples /proc every 100 ms. Servers that spawn git per request (http-backend, node-git-server)
 * spend most of their memory in children, so the whole tree is summed, not just the main process.
 */
export class RssSampler {
  private readonly peaks = new Map<number, MemoryPeaks>();
  /** Per-server peak since the last resetWindow(): the memory one operation needed. */
  private readonly windowPeaks = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: () => number[]) {}

  start(): void {
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  peaksOf(pid: number): MemoryPeaks {
    return this.peaks.get(pid) ?? { peakTreeRssBytes: 0, mainHwmBytes: 0 };
  }

  resetWindow(pid: number): void {
    this.windowPeaks.set(pid, 0);
  }

  windowPeak(pid: number): number {
    return this.windowPeaks.get(pid) ?? 0;
  }

  sample(): void {
    const roots = this.pids();
    if (roots.length === 0) return;
    const children = childrenByParent();
    for (const root of roots) {
      const main = readStatus(root);
      if (!main) continue;
      let tree = main.rss;
      const pending = [...(children.get(root) ?? [])];
      for (let guard = 0; pending.length > 0 && guard < 100_000; guard++) {
        const pid = pending.pop()!;
        tree += readStatus(pid)?.rss ?? 0;
        pending.push(...(children.get(pid) ?? []));
      }
      const previous = this.peaksOf(root);
      this.peaks.set(root, {
        peakTreeRssBytes: Math.max(previous.peakTreeRssBytes, tree),
        mainHwmBytes: Math.max(previous.mainHwmBytes, main.hwm),
      });
      this.windowPeaks.set(root, Math.max(this.windowPeaks.get(root) ?? 0, tree));
    }
  }
}

/** The kernel here has no /proc/<pid>/task/<tid>/children, so the tree comes from every process's ppid. */
function childrenByParent(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited between readdir and read
    }
    // The command name (field 2) may contain spaces and parentheses; fields after the last ')' are fixed.
    const afterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(afterName[1]);
    const list = map.get(ppid);
    if (list) list.push(Number(entry));
    else map.set(ppid, [Number(entry)]);
  }
  return map;
}

function readStatus(pid: number): { rss: number; hwm: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  return { rss: kib(status, 'VmRSS'), hwm: kib(status, 'VmHWM') };
}

function kib(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}
