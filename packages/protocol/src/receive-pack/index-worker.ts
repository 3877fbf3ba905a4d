import type { MessagePort } from 'node:worker_threads';
import { lowerThisThreadPriority, siblingModule, type ObjectId, type ObjectType } from '@gitfleet/git-format';
import { checkPack, type IndexOutcome, type PackCheckTask, type RepositoryObjects } from './pack-check.js';
import type { PushCheckInit } from './push-object-checks.js';
import { crossingThreads } from './thread-errors.js';
import { ThreadTokens } from './thread-tokens.js';

// CPU-heavy tasks: the event loops of the process keep their cores first.
lowerThisThreadPriority();

/**
 * A pack check (pack-check.ts) on a worker thread (index-pool.ts). The repository stays on the
 * main thread, which owns the stores: the worker asks it over `port` for the few objects it
 * needs, one at a time, and waits.
 */
export interface IndexTask extends PackCheckTask {
  /** The spooled pack's path: a thread cannot share the memory of one held on the main thread. */
  pack: string;
  /** Most threads resolving this pack's deltas may use (PackIndexPool's resolveThreadsPerPush). */
  resolveThreads: number;
  /** The machine's spare indexing threads, shared by every push (PackIndexPool). */
  threadTokens: Int32Array;
  /** Packs with fewer deltas are resolved on this thread alone (default: git-format's). */
  parallelMinDeltas?: number;
  port: MessagePort;
}

/** Worker → main thread. */
export type WorkerMessage =
  { kind: 'progress'; phase: 'receiving' | 'resolving'; done: number; total: number } | { kind: 'read'; id: number; oid: ObjectId };

/** Main thread → worker: the answer to a 'read'. */
export type ReadAnswer = { id: number; object?: { type: ObjectType; data: Uint8Array }; error?: string };

export default async function indexInWorker(task: IndexTask): Promise<IndexOutcome> {
  const { port, resolveThreads, threadTokens, parallelMinDeltas, ...check } = task;
  const init: PushCheckInit = { tips: check.tips, shallow: check.shallow };
  try {
    return await checkPack(check, new RepositoryChannel(port), {
      onProgress: throttledProgress(port),
      parallel: {
        maxThreads: resolveThreads,
        objectSink: { module: siblingModule(import.meta.url, 'push-object-checks'), init },
        threadBudget: new ThreadTokens(threadTokens),
        minDeltas: parallelMinDeltas,
      },
    });
  } catch (error) {
    throw crossingThreads(error);
  } finally {
    port.close();
  }
}

/** Progress crosses threads only when its percentage changes: a large pack has millions of objects. */
function throttledProgress(port: MessagePort): (phase: 'receiving' | 'resolving', done: number, total: number) => void {
  let last = '';
  return (phase, done, total) => {
    const step = `${phase}:${Math.floor((done * 100) / Math.max(total, 1))}`;
    if (step === last && done !== total) return;
    last = step;
    port.postMessage({ kind: 'progress', phase, done, total } satisfies WorkerMessage);
  };
}

/** Requests objects from the main thread's repository and matches the answers to them. */
class RepositoryChannel implements RepositoryObjects {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve(answer: ReadAnswer): void }>();

  constructor(private readonly port: MessagePort) {
    port.on('message', (answer: ReadAnswer) => {
      const waiter = this.waiting.get(answer.id);
      this.waiting.delete(answer.id);
      waiter?.resolve(answer);
    });
  }

  async read(oid: ObjectId): Promise<{ type: ObjectType; data: Buffer } | undefined> {
    const id = this.nextId++;
    const answer = await new Promise<ReadAnswer>((resolve) => {
      this.waiting.set(id, { resolve });
      this.port.postMessage({ kind: 'read', id, oid } satisfies WorkerMessage);
    });
    if (answer.error !== undefined) throw new Error(`reading ${oid} from the repository: ${answer.error}`);
    const object = answer.object;
    return object && { type: object.type, data: Buffer.from(object.data.buffer, object.data.byteOffset, object.data.byteLength) };
  }
}
