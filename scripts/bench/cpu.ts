import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { descendants } from './rss.js';

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
/** How long to wait for a server's children to be reaped before reading its CPU time. */
const SETTLE_MS = 2000;
const SETTLE_POLL_MS = 20;

/**
 * CPU seconds (user + system) the server processes and all their descendants have used so far,
 * reaped children included. Gitfleet's workers are live children of its primary; http-backend
 * behind lighttpd forks git per request, and a child's time reaches its parent's cutime/cstime
 * only once it has been waited for. So this first waits (briefly) until the set of processes
 * stops changing (a request's git has exited and been reaped), then sums the whole tree: a live
 * process counts its own time, a reaped one is in its parent's.
 */
export async function serverCpuSeconds(pids: readonly number[]): Promise<number> {
  let tree = processTree(pids);
  for (let waited = 0; waited < SETTLE_MS; waited += SETTLE_POLL_MS) {
    await sleep(SETTLE_POLL_MS);
    const now = processTree(pids);
    if (now.join() === tree.join()) break;
    tree = now;
  }
  return tree.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
}

/** CPU seconds of `pid` and its descendants so far, at once (no settling); undefined once `pid` is gone. */
export function processTreeCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined || !existsSync(`/proc/${pid}`)) return undefined;
  return processTree([pid]).reduce((sum, member) => sum + processCpuSeconds(member), 0);
}

/** `pids` and all their descendants, sorted. */
function processTree(pids: readonly number[]): number[] {
  return [...descendants(pids)].sort((a, b) => a - b);
}

/** utime + stime + cutime + cstime of /proc/<pid>/stat (fields 14–17), in seconds; 0 once the process is gone. */
function processCpuSeconds(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  // Fields after the command name (which may hold spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / TICKS_PER_SECOND;
}
