import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { childrenByParent } from './rss.js';

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
/** How long to wait for a server's children to be reaped before reading its CPU time. */
const SETTLE_MS = 2000;
const SETTLE_POLL_MS = 20;

/**
 * CPU seconds (user + system) the server processes have used so far, their reaped children
 * included: http-backend behind lighttpd forks git per request, and a child's time reaches its
 * parent's cutime/cstime only once it has been waited for. So this first waits (briefly) until
 * the processes have no child left, which also makes a reading taken right after a client
 * finished include the request's git processes.
 */
export async function serverCpuSeconds(pids: readonly number[]): Promise<number> {
  for (let waited = 0; waited < SETTLE_MS && hasChildren(pids); waited += SETTLE_POLL_MS) await sleep(SETTLE_POLL_MS);
  return pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
}

function hasChildren(pids: readonly number[]): boolean {
  const children = childrenByParent();
  return pids.some((pid) => (children.get(pid)?.length ?? 0) > 0);
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
