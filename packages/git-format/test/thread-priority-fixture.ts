// A worker thread of thread-priority.test.ts: lowers its own priority and says which thread it is.
import { readlinkSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { lowerThisThreadPriority } from '../src/thread-priority.js';

lowerThisThreadPriority();
parentPort!.postMessage(readlinkSync('/proc/thread-self').split('/').at(-1));
// Kept alive until the test has read its priority.
setTimeout(() => undefined, 60_000);
