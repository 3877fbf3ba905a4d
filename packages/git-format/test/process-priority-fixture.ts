// A process of thread-priority.test.ts: lowers its own priority, starts a worker thread after
// that, and prints the nice value of each of its threads, main thread first.
import { readdirSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { lowerProcessPriority } from '../src/thread-priority.js';

function niceOf(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

lowerProcessPriority();
const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
await once(worker, 'online');
const helpers = readdirSync('/proc/self/task')
  .map(Number)
  .filter((tid) => tid !== process.pid);
process.stdout.write(JSON.stringify({ main: niceOf(process.pid), helpers: helpers.map(niceOf) }));
await worker.terminate();
