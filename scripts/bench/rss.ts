import { readFileSync, readdirSync } from 'node:fs';

const SAMPLE_INTERVAL_MS = 100;

/** Peak memory of one server: its process trees' summed RSS, and the kernel's high-water mark of its largest process. */
export interface MemoryPeaks {
  /** Largest sum of VmRSS over the server's processes and all their descendants seen at one sample. */
  peakTreeRssBytes: number;
  /**
   * The largest VmHWM of any process of the server's trees: its main process alone, each Gitfleet
   * worker (the primary's children), or the largest git that http-backend forked.
   */
  largestHwmBytes: number;
}

/** The processes of one server right now: its main process first, then any peers (several Gitfleet processes). */
export interface SampledServer {
  name: string;
  pids: number[];
}

/**
 * Samples /proc every 100 ms. Servers that spawn git per request (http-backend, node-git-server)
 * spend most of their memory in children, so the whole tree is summed, not just the main process;
 * a server of several processes counts all of them.
 */
export class RssSampler {
  private readonly peaks = new Map<string, MemoryPeaks>();
  /** Per-server peaks since the last resetWindow(): the memory one operation needed, all processes and the largest one. */
  private readonly windowPeaks = new Map<string, { tree: number; process: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly servers: () => SampledServer[]) {}

  start(): void {
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  peaksOf(server: string): MemoryPeaks {
    return this.peaks.get(server) ?? { peakTreeRssBytes: 0, largestHwmBytes: 0 };
  }

  resetWindow(server: string): void {
    this.windowPeaks.set(server, { tree: 0, process: 0 });
  }

  /** Since the last resetWindow(): the largest summed RSS of the server's processes, and the largest RSS of one of them (a Gitfleet worker, a git that http-backend forked). */
  windowPeak(server: string): { tree: number; process: number } {
    return this.windowPeaks.get(server) ?? { tree: 0, process: 0 };
  }

  sample(): void {
    const servers = this.servers().filter((server) => server.pids.length > 0);
    if (servers.length === 0) return;
    const children = childrenByParent();
    for (const server of servers) {
      if (!readStatus(server.pids[0])) continue;
      const trees = server.pids.map((pid) => treeStatus(pid, children));
      const total = trees.reduce((sum, tree) => sum + tree.rss, 0);
      const largestHwm = Math.max(...trees.map((tree) => tree.largestHwm));
      const largestRss = Math.max(...trees.map((tree) => tree.largestRss));
      const previous = this.peaksOf(server.name);
      this.peaks.set(server.name, {
        peakTreeRssBytes: Math.max(previous.peakTreeRssBytes, total),
        largestHwmBytes: Math.max(previous.largestHwmBytes, largestHwm),
      });
      const window = this.windowPeak(server.name);
      this.windowPeaks.set(server.name, { tree: Math.max(window.tree, total), process: Math.max(window.process, largestRss) });
    }
  }
}

/** The summed VmRSS of a process and all its descendants right now. */
export function processTreeRss(pid: number): number {
  return treeStatus(pid, childrenByParent()).rss;
}

/** The summed VmRSS of a process and its descendants, the largest VmRSS and the largest VmHWM among them. */
function treeStatus(root: number, children: Map<number, number[]>): { rss: number; largestRss: number; largestHwm: number } {
  let rss = 0;
  let largestRss = 0;
  let largestHwm = 0;
  for (const pid of descendants([root], children)) {
    const status = readStatus(pid);
    rss += status?.rss ?? 0;
    largestRss = Math.max(largestRss, status?.rss ?? 0);
    largestHwm = Math.max(largestHwm, status?.hwm ?? 0);
  }
  return { rss, largestRss, largestHwm };
}

/** `roots` and every process below them, each once. */
export function descendants(roots: readonly number[], children: Map<number, number[]> = childrenByParent()): Set<number> {
  const found = new Set<number>();
  const pending = [...roots];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    if (found.has(pid)) continue;
    found.add(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** The kernel here has no /proc/<pid>/task/<tid>/children, so the tree comes from every process's ppid. */
export function childrenByParent(): Map<number, number[]> {
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
